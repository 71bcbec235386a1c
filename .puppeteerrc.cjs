// Puppeteer drives Debian's /usr/bin/chromium (or $CHROME_PATH): never download a browser of its own.
module.exports = { skipDownload: true };
