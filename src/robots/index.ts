import type { Robot } from '../app';
import { bookingReleaser } from './booking-releaser';
import { dealRenamer } from './deal-renamer';
import { duplicateCatcher } from './duplicate-catcher';
import { stageGuard } from './stage-guard';
import { stageTimers } from './stage-timers';
import { takeoverTimer } from './takeover-timer';
import { unitStatusSync } from './unit-status-sync';

/**
 * Every robot the app runs, in the order they run on one event. Order matters: the guard judges
 * the move first; the duplicate catcher records a repeat before the takeover timer looks; the
 * sync books the unit (or sends the deal back) before the releaser starts the booking clock.
 * Adding a robot = one file in this folder + one line here + its block in config/robots.default.json.
 */
export const robots: Array<Robot<any>> = [stageGuard, dealRenamer, duplicateCatcher, takeoverTimer, unitStatusSync, bookingReleaser, stageTimers];
