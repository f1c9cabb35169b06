// Package devstack is the whole of Switchboard on one machine, on loopback: connectsim (Amazon
// Connect), dynalite (DynamoDB), gofakes3 (S3), every function built with the same handler and
// settings code as the Lambdas, a Lambda Invoke API as `sam local start-lambda` serves it, an
// EventBridge PutEvents endpoint whose rules use the CDK rules' event patterns, and the minute
// schedule of the dialer. Every part runs on connectsim's simulated clock, so a run at 60x keeps
// every callee-local calling window as it would be in real time (docs/devstack.md).
package devstack
