/** The Lambda context the local stack hands each handler call: a fresh request id and a countdown from the function's timeout. */
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { LOCAL_REGION } from "./settings.ts";

export function lambdaContext(functionName: string, timeoutMs: number, now: () => number = Date.now): Context {
  const deadline = now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:123456789012:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
