/** Section icons from the official Bitrix24 icon set (@bitrix24/b24icons-vue). */
import type { Component } from 'vue';
import SettingsIcon from '@bitrix24/b24icons-vue/outline/SettingsIcon';
import ShieldCheckedIcon from '@bitrix24/b24icons-vue/outline/ShieldCheckedIcon';
import EditMIcon from '@bitrix24/b24icons-vue/outline/EditMIcon';
import DuplicateIcon from '@bitrix24/b24icons-vue/outline/DuplicateIcon';
import PersonChecksIcon from '@bitrix24/b24icons-vue/outline/PersonChecksIcon';
import HomeIcon from '@bitrix24/b24icons-vue/outline/HomeIcon';
import CalendarIcon from '@bitrix24/b24icons-vue/outline/CalendarIcon';
import HourglassIcon from '@bitrix24/b24icons-vue/outline/HourglassIcon';
import CheckMIcon from '@bitrix24/b24icons-vue/outline/CheckMIcon';

export const SECTION_ICONS: Record<string, Component> = {
  general: SettingsIcon,
  stageGuard: ShieldCheckedIcon,
  dealRenamer: EditMIcon,
  duplicateCatcher: DuplicateIcon,
  takeoverTimer: PersonChecksIcon,
  unitStatusSync: HomeIcon,
  bookingReleaser: CalendarIcon,
  stageTimers: HourglassIcon,
};
export const SaveIcon = CheckMIcon;
