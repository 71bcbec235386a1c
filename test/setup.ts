/**
 * Every test file starts here (vitest.config.ts `setupFiles`). Dispatches of more than 3 workgroups
 * go 2-D, so each kernel's ordinary tests reach the gid.y term of its linear index, which otherwise
 * only tensors past 65,535 workgroups do (test/large-dispatch.test.ts keeps that real boundary).
 * Dispatches of 1 to 3 workgroups stay 1-D, as nearly all are outside tests.
 */
import { splitDispatchesAbove } from '../src/gpu/gpu.js';

export const TEST_SPLIT_ABOVE = 3;

splitDispatchesAbove(TEST_SPLIT_ABOVE);
