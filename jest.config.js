/** Tests run TypeScript through swc (type checking is `npm run typecheck`, run first by `npm test`). */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The Bitrix24 SDK's CommonJS build requires `qs-esm`, which ships ESM only: let swc turn it into CommonJS.
  transform: { '^.+\\.ts$': swc, '/node_modules/qs-esm/.+\\.js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!qs-esm/)'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 60000,
};
