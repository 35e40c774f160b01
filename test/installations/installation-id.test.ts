import { escapeGlob, installationKey, installationKeysPattern } from '../../src/infra/keys';
import { InvalidInstallationIdError, parseInstallationId } from '../../src/installations/installation';

describe('installation ids: b24:<member_id> and amo:<account_id>', () => {
  it.each([
    ['b24:a223c6b3710f85df22e9377d6c4f7553', { crm: 'bitrix24', memberId: 'a223c6b3710f85df22e9377d6c4f7553', id: 'b24:a223c6b3710f85df22e9377d6c4f7553' }],
    ['b24:A223C6B3710F85DF22E9377D6C4F7553', { crm: 'bitrix24', memberId: 'a223c6b3710f85df22e9377d6c4f7553', id: 'b24:a223c6b3710f85df22e9377d6c4f7553' }],
    ['amo:17769199', { crm: 'amocrm', accountId: '17769199', id: 'amo:17769199' }],
  ])('%s is an installation id', (raw, parsed) => {
    expect(parseInstallationId(raw)).toEqual(parsed);
  });

  it.each([
    'b24:*',
    'b24:?',
    'b24:[a-f]*',
    'b24:a223c6b3710f85df22e9377d6c4f755',
    'b24:a223c6b3710f85df22e9377d6c4f7553:x',
    'b24:a223c6b3710f85df22e9377d6c4f755g',
    'b24:{a223c6b3710f85df22e9377d6c4f7553}',
    'amo:0',
    'amo:-1',
    'amo:12a',
    'amo:1*',
    'amo:',
    'crm:123',
    '',
  ])('%j is refused', (raw) => {
    expect(() => parseInstallationId(raw)).toThrow(InvalidInstallationIdError);
  });
});

describe('key layout', () => {
  it("puts an installation's keys under a hash tag that ends its id", () => {
    expect(installationKey('reglament', 'amo:12', 'stage', 'deal', '5')).toBe('reglament:i:{amo:12}:stage:deal:5');
  });

  it('builds no key from an id that is not one', () => {
    expect(() => installationKey('reglament', 'b24:*', 'stage')).toThrow(InvalidInstallationIdError);
    expect(() => installationKeysPattern('reglament', 'amo:1?')).toThrow(InvalidInstallationIdError);
  });

  it('escapes every glob character of the prefix and the id in the uninstall pattern', () => {
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
    expect(installationKeysPattern('test[1]*', 'amo:12')).toBe('test\\[1\\]\\*:i:\\{amo:12\\}:*');
  });
});
