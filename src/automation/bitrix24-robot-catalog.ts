import type { AutomationAction } from './automation-call';

/**
 * Reglament's robots in the Bitrix24 automation designer, in `bizproc.robot.add`'s format
 * (restdocs api-reference/bizproc/bizproc-robot/bizproc-robot-add.md): CODE `[a-zA-Z0-9._-]`,
 * NAME / DESCRIPTION as `{ru, en}`, PROPERTIES / RETURN_PROPERTIES as `{key: {Name, Type,
 * Required, Multiple, Default}}` with keys starting with a letter. Every robot waits for the
 * app's answer (`USE_SUBSCRIPTION: Y`), which comes through `bizproc.event.send`.
 */
type Localized = { ru: string; en: string };
type PropertyType = 'bool' | 'date' | 'datetime' | 'double' | 'int' | 'select' | 'string' | 'text' | 'user';

export interface RobotProperty {
  Name: Localized;
  Description?: Localized;
  Type: PropertyType;
  Required: 'Y' | 'N';
  Multiple: 'Y' | 'N';
  Default?: string;
}

export interface Bitrix24RobotDefinition {
  action: AutomationAction;
  CODE: string;
  NAME: Localized;
  DESCRIPTION: Localized;
  PROPERTIES: Record<string, RobotProperty>;
  RETURN_PROPERTIES: Record<string, RobotProperty>;
  /** Where the designer offers it (FILTER.INCLUDE): deals, leads or both. */
  documents: ReadonlyArray<'deal' | 'lead'>;
}

const out = (ru: string, en: string, Type: PropertyType): RobotProperty => ({ Name: { ru, en }, Type, Required: 'N', Multiple: 'N' });

export const BITRIX24_ROBOTS: readonly Bitrix24RobotDefinition[] = [
  {
    action: 'checkTransition',
    CODE: 'reglament_check_transition',
    NAME: { ru: 'Проверить переход по регламенту', en: 'Check the move against the regulation' },
    DESCRIPTION: {
      ru: 'Reglament проверяет переход сделки на эту стадию по регламенту отдела продаж (разрешённые переходы, обязательные этапы и поля, причина закрытия) и возвращает результат. Сделку робот не двигает.',
      en: 'Reglament checks the move into this stage against the sales regulation (allowed moves, stages never skipped, required fields, closing reason) and returns the verdict. The robot does not move the deal.',
    },
    PROPERTIES: {
      toStage: {
        Name: { ru: 'Стадия назначения (ID)', en: 'Target stage (ID)' },
        Description: { ru: 'Пусто — проверить переход из предыдущей стадии в текущую', en: 'Empty: check the move from the previous stage into the current one' },
        Type: 'string',
        Required: 'N',
        Multiple: 'N',
      },
    },
    RETURN_PROPERTIES: {
      allowed: out('Переход разрешён', 'Move allowed', 'bool'),
      violations: out('Нарушения регламента', 'Regulation violations', 'text'),
    },
    documents: ['deal', 'lead'],
  },
  {
    action: 'distributeLead',
    CODE: 'reglament_distribute_lead',
    NAME: { ru: 'Передать лид по распределению', en: 'Assign the lead by distribution' },
    DESCRIPTION: {
      ru: 'Назначает ответственного по распределению Reglament: взвешенная очередь менеджеров с учётом рабочего времени, отпусков, дневного лимита и рейтинга прошлого месяца. Менеджер получает уведомление.',
      en: "Assigns a responsible manager by Reglament's distribution: a weighted rotation that respects working hours, vacations, the daily cap and last month's rating. The manager is notified.",
    },
    PROPERTIES: {},
    RETURN_PROPERTIES: {
      responsibleId: out('ID ответственного', 'Responsible user ID', 'int'),
      responsibleName: out('Ответственный', 'Responsible', 'string'),
    },
    documents: ['lead', 'deal'],
  },
  {
    action: 'bookUnit',
    CODE: 'reglament_book_unit',
    NAME: { ru: 'Забронировать объект', en: 'Book the unit' },
    DESCRIPTION: {
      ru: 'Бронирует объект из поля сделки в системе учёта (Profitbase, 1С) на срок брони из настроек Reglament. Объект, занятый другой сделкой, не бронируется, в карточке объясняется почему.',
      en: "Books the deal's unit in the inventory (Profitbase, 1C) for the booking term set in Reglament. A unit held by another deal is not booked; the card says why.",
    },
    PROPERTIES: {},
    RETURN_PROPERTIES: {
      booked: out('Объект забронирован', 'Unit booked', 'bool'),
      outcome: out('Результат', 'Outcome', 'string'),
    },
    documents: ['deal'],
  },
  {
    action: 'releaseUnit',
    CODE: 'reglament_release_unit',
    NAME: { ru: 'Снять бронь', en: 'Release the booking' },
    DESCRIPTION: {
      ru: 'Освобождает объект в системе учёта, если его держит эта сделка.',
      en: 'Frees the unit in the inventory if this deal holds it.',
    },
    PROPERTIES: {},
    RETURN_PROPERTIES: {
      released: out('Бронь снята', 'Booking released', 'bool'),
      outcome: out('Результат', 'Outcome', 'string'),
    },
    documents: ['deal'],
  },
  {
    action: 'renameDeal',
    CODE: 'reglament_rename_deal',
    NAME: { ru: 'Переименовать сделку', en: 'Rename the deal' },
    DESCRIPTION: {
      ru: 'Называет сделку по шаблону Reglament («номер / клиент / объект»); пишет, только если название другое.',
      en: "Names the deal by Reglament's template («number / client / unit»); writes only when the title differs.",
    },
    PROPERTIES: {},
    RETURN_PROPERTIES: { title: out('Новое название', 'New title', 'string') },
    documents: ['deal', 'lead'],
  },
];

const DOCUMENT_CLASS = { deal: 'CCrmDocumentDeal', lead: 'CCrmDocumentLead' } as const;

export function robotByCode(code: string): Bitrix24RobotDefinition | undefined {
  return BITRIX24_ROBOTS.find((r) => r.CODE === code);
}

/** The fields `bizproc.robot.add` takes (and `bizproc.robot.update` takes as FIELDS, without CODE). */
export function robotFields(robot: Bitrix24RobotDefinition, handler: string, authUserId: number): Record<string, unknown> {
  return {
    HANDLER: handler,
    AUTH_USER_ID: authUserId,
    USE_SUBSCRIPTION: 'Y',
    NAME: robot.NAME,
    DESCRIPTION: robot.DESCRIPTION,
    PROPERTIES: robot.PROPERTIES,
    RETURN_PROPERTIES: robot.RETURN_PROPERTIES,
    FILTER: { INCLUDE: robot.documents.map((d) => ['crm', DOCUMENT_CLASS[d]]) },
  };
}
