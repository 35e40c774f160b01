import type { DealRef } from '../crm/crm-port';
import { CrmBlockedError, InstallationRevokedError, PermanentCrmError, TransientError } from '../errors';
import type { InstallationState } from '../app';
import type { ProcessAlerts } from './process-alerts';

/**
 * Process failures the app itself notices: a robot failing again and again on one deal, and an
 * installation that lost its CRM link (webhook disabled, access revoked).
 */
export const ROBOT_FAILURES_BEFORE_ALERT = 3;

/**
 * Counts a robot's failures per deal (a day); the third one alerts the heads of sales with the
 * reason in the installation's language. A revoked installation is not counted: its alert is
 * `installation.revoked`, raised where the revocation is recorded.
 */
export async function noteRobotFailure(
  deps: { state: InstallationState; alerts: ProcessAlerts; locale: 'ru' | 'en' },
  robot: string,
  target: DealRef | null,
  err: unknown,
): Promise<void> {
  if (!target || err instanceof InstallationRevokedError) return;
  const count = await deps.state.increment(`failures:${robot}:${target.entity}:${target.id}`, 86_400);
  if (count !== ROBOT_FAILURES_BEFORE_ALERT) return;
  const reason = failureReason(err, deps.locale);
  const what = target.entity === 'lead' ? (deps.locale === 'ru' ? 'лид' : 'lead') : deps.locale === 'ru' ? 'сделку' : 'deal';
  const text =
    deps.locale === 'ru'
      ? `Робот «${robotTitle(robot, 'ru')}» ${ROBOT_FAILURES_BEFORE_ALERT} раза не смог обработать ${what} #${target.id}: ${reason}. Проверьте сделку и при необходимости распределите клиента вручную.`
      : `Robot “${robotTitle(robot, 'en')}” failed ${ROBOT_FAILURES_BEFORE_ALERT} times on ${what} #${target.id}: ${reason}. Check the deal and redistribute the client by hand if needed.`;
  await deps.alerts.raise({ kind: 'robot.failing', text, target });
}

const ROBOT_TITLES: Record<string, { ru: string; en: string }> = {
  stageGuard: { ru: 'Контроль этапов', en: 'Stage guard' },
  dealRenamer: { ru: 'Название сделки', en: 'Deal renamer' },
  stageTimers: { ru: 'Сроки этапов', en: 'Stage timers' },
};
const robotTitle = (robot: string, locale: 'ru' | 'en') => ROBOT_TITLES[robot]?.[locale] ?? robot;

/** Why a robot failed, in words a head of sales understands (the technical message in brackets). */
export function failureReason(err: unknown, locale: 'ru' | 'en'): string {
  const message = err instanceof Error ? err.message : String(err);
  const text = `${message} ${(err as { code?: unknown })?.code ?? ''}`;
  const ru = locale === 'ru';
  let reason: string;
  if (err instanceof CrmBlockedError) reason = ru ? 'CRM временно заблокировала доступ приложения' : 'the CRM blocked the app for a while';
  else if (/QUERY_LIMIT_EXCEEDED|429|rate limit/i.test(text)) reason = ru ? 'превышен лимит запросов к CRM' : 'the CRM request limit was exceeded';
  else if (err instanceof TransientError || /timeout|ETIMEDOUT|ECONNREFUSED|5\d\d/i.test(text)) reason = ru ? 'CRM не отвечает или перегружена' : 'the CRM does not answer or is overloaded';
  else if (/ACCESS_DENIED|403|insufficient|permission/i.test(text)) reason = ru ? 'у приложения нет прав на это действие в CRM' : 'the app lacks the rights for this in the CRM';
  else if (/NOT_FOUND|404|not found/i.test(text)) reason = ru ? 'сделка, этап или поле не найдены в CRM' : 'a deal, stage or field was not found in the CRM';
  else if (/Settings of robot|invalid/i.test(text)) reason = ru ? 'неверные настройки робота' : 'the robot\'s settings are invalid';
  else if (err instanceof PermanentCrmError) reason = ru ? 'CRM отклонила запрос' : 'the CRM refused the request';
  else reason = ru ? 'внутренняя ошибка приложения' : 'an internal error of the app';
  return `${reason} (${message.slice(0, 200)})`;
}

export const installationAlertTexts = {
  revoked: (reason: string, locale: 'ru' | 'en') =>
    locale === 'ru'
      ? `Reglament потерял доступ к CRM (${reason}): роботы регламента не работают, пока приложение не установят заново.`
      : `Reglament lost access to the CRM (${reason}): the regulation robots stop until the app is installed again.`,
  webhookDisabled: (locale: 'ru' | 'en') =>
    locale === 'ru'
      ? 'CRM отключила вебхук Reglament: события сделок не приходят, регламент не соблюдается. Приложение пытается подписаться заново; если сообщение повторится — проверьте тариф и настройки интеграции.'
      : 'The CRM disabled Reglament\'s webhook: deal events do not arrive and the regulation is not enforced. The app subscribes again; if this repeats, check the plan and the integration settings.',
};
