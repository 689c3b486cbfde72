import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // RGW is one shared server: files that use it must not race on bucket setup.
    fileParallelism: true,
    reporters: ['default'],
    // Starts Ceph RGW for the real-S3 suites when it is installed and nothing else is configured
    // (S3_TEST_ENDPOINT unset, nothing answering S3 on 127.0.0.1:7480); stops it afterwards.
    globalSetup: ['test/setup/rgw.ts'],
    env: {
      // The AWS SDK warns once per process on Node 20 that its releases after January 2027 need
      // Node 22 (README, "Node versions"). This is the SDK's own switch for that one warning
      // (aws/aws-sdk-js-v3#7983); every other warning still prints. Set it to `false` to see it.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
    },
  },
})
