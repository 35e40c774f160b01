import type { Robot } from '../app';
import { bookingReleaser } from './booking-releaser';
import { dealRenamer } from './deal-renamer';
import { stageGuard } from './stage-guard';
import { unitStatusSync } from './unit-status-sync';

/** Every robot the app runs. Adding a robot = one file in this folder + one line here + its block in config/robots.default.json. */
// Order matters within one event: the guard judges the move first, the sync books the unit (or sends
// the deal back) before the releaser starts the clock.
export const robots: Array<Robot<any>> = [stageGuard, dealRenamer, unitStatusSync, bookingReleaser];
