import nock from 'nock';
import { createTestServices } from './test-services';

export type TestServices = Awaited<ReturnType<typeof createTestServices>>;

/** The documented example portal the adapter tests talk to (through nock). */
export const BITRIX24_PORTAL = 'https://some-domain.bitrix24.com';

/** A Bitrix24 REST answer in its documented envelope. */
export const bitrix24Ok = (result: unknown) => ({ result, time: { start: 0, finish: 0, duration: 0, processing: 0, date_start: '', date_finish: '', operating: 0 } });

/**
 * Adapter tests at the HTTP level: fresh services on a private Redis prefix for every test, and
 * no real network (every request must meet a nock scope). Call inside a `describe`.
 */
export function useNockedServices(): { readonly services: TestServices } {
  let services: TestServices | undefined;
  beforeAll(() => nock.disableNetConnect());
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    services = await createTestServices({ BITRIX24_CLIENT_ID: 'app.1', BITRIX24_CLIENT_SECRET: 's3cret' });
  });
  afterEach(async () => {
    nock.cleanAll();
    await services?.cleanup();
  });
  return {
    get services() {
      if (!services) throw new Error('services exist inside tests only');
      return services;
    },
  };
}
