import { SessionSigner } from '../../src/settings-access/session';
import { CardSessionSigner, CARD_SESSION_TTL_SECONDS } from '../../src/settings-access/card-session';
import { undoComment } from '../../src/card/card-texts';

const NOW = Date.parse('2026-11-30T08:00:00Z');
const claims = { installationId: `b24:${'a'.repeat(32)}`, userId: '4', role: 'head_of_sales' as const, entity: 'deal' as const, dealId: '15' };

describe('card session: one deal of one installation, for half an hour, under a key of its own', () => {
  const signer = new CardSessionSigner('bitrix24-secret');

  it('verifies what it issued, with the deal it is scoped to', () => {
    const { token } = signer.issue(claims, NOW);
    expect(signer.verify(token, NOW)).toEqual({ ok: true, claims: { v: 1, scope: 'card', ...claims, expiresAt: NOW / 1000 + CARD_SESSION_TTL_SECONDS } });
  });

  it.each([
    ['expired', () => signer.issue(claims, NOW).token, NOW + CARD_SESSION_TTL_SECONDS * 1000, 'expired'],
    ['signed with another secret', () => new CardSessionSigner('other-secret').issue(claims, NOW).token, NOW, 'bad_signature'],
    ['a settings session (same secret, other key)', () => new SessionSigner('bitrix24-secret').issue({ installationId: claims.installationId, userId: '4', role: 'admin' }, NOW).token, NOW, 'bad_signature'],
    ['a body changed to another deal', () => {
      const [body, sig] = signer.issue(claims, NOW).token.split('.');
      const changed = Buffer.from(Buffer.from(body!, 'base64url').toString().replace('"15"', '"16"')).toString('base64url');
      return `${changed}.${sig}`;
    }, NOW, 'bad_signature'],
    ['not a token', () => 'abc', NOW, 'malformed'],
  ])('refuses a token %s', (_name, token, at, reason) => {
    expect(signer.verify(token(), at)).toEqual({ ok: false, reason });
  });

  it('a card token is never a settings token', () => {
    const card = signer.issue(claims, NOW).token;
    expect(new SessionSigner('bitrix24-secret').verify(card, NOW).ok).toBe(false);
  });
});

describe('the undo comment in the card, Russian by default', () => {
  const names = { to: 'Договор', left: 'Новая', by: 'Ольга Руководитель' };
  it.each([
    ['a deal back at its stage', { kind: 'stage' as const, to: { id: 'EXECUTING' }, left: { id: 'NEW' } }, 'deal' as const, 'Сделка возвращена на стадию «Договор», выбранную менеджером (робот перевёл её на «Новая»).'],
    ['a lead back at its stage', { kind: 'stage' as const, to: { id: 'EXECUTING' }, left: { id: 'NEW' } }, 'lead' as const, 'Лид возвращён на стадию «Договор», выбранную менеджером (робот перевёл его на «Новая»).'],
    ['a request reopened, the merge named as not undone', { kind: 'reopen' as const, to: { id: 'NEW' }, left: { id: 'JUNK' } }, 'lead' as const, 'объединение контактов в CRM отменить нельзя'],
  ])('%s', (_name, plan, entity, expected) => {
    const text = undoComment(plan, names, 'stageGuard', 'клиент подписал', 'ru', entity);
    expect(text.split('\n')[0]).toBe('Ольга Руководитель отменил(а) действие робота «Страж стадий».');
    expect(text).toContain(expected);
    expect(text.split('\n').at(-1)).toBe('Причина: клиент подписал');
  });

  it('in English when the installation says so, without a reason line when none is given', () => {
    const text = undoComment({ kind: 'responsible', to: { id: '2' }, left: { id: '3' } }, { to: 'Maria', left: 'Ivan', by: 'Olga' }, 'takeoverTimer', undefined, 'en');
    expect(text).toBe('Olga undid the action of the robot “Takeover timer”.\nMaria is the responsible manager again (the robot had handed the deal to Ivan).');
  });
});
