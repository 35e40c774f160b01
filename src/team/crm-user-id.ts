import { z } from 'zod';

/**
 * A CRM user id in settings (heads of sales, roster, technical users, vacations). Stored as the
 * digits the CRM shows; a number is accepted too. The `x-picker` mark tells the settings page to
 * offer the CRM's users by name for it (the JSON Schema keeps the mark).
 */
export const crmUserIdSchema = z
  .union([z.string().regex(/^\d+$/, 'a CRM user id (digits)'), z.number().int().positive()])
  .transform(String)
  .meta({ 'x-picker': 'crm-user' });

/** A Bitrix24 department id (`UF_DEPARTMENT`): digits, like a user id but not one. */
export const crmDepartmentIdSchema = z.union([z.string().regex(/^\d+$/, 'a CRM department id (digits)'), z.number().int().positive()]).transform(String);

/** A CRM user id as a record's key (a manager's weight, a rating override): digits, marked for the picker too. */
export const crmUserIdKeySchema = z.string().regex(/^\d+$/, 'a CRM user id (digits)').meta({ 'x-picker': 'crm-user' });
