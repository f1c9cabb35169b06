// Package connectsim is a local emulator of the Amazon Connect API operations
// that Switchboard uses.
//
// It serves Amazon Connect's REST-JSON wire protocol (and the few Connect
// Participant Service and Cognito hosted sign-in endpoints needed for chat
// customer authentication) so that the real aws-sdk-go-v2 client, the AWS CLI
// and the JavaScript SDK work against it unchanged. Fidelity matters more
// than breadth: requests are validated the way the API reference documents,
// errors come back with the documented type and HTTP status, operations are
// throttled with token buckets, StartOutboundVoiceContact is idempotent on
// ClientToken, and outbound calls are simulated on a clock that can run
// faster than real time (or be stepped by tests), emitting Amazon Connect
// contact events in the EventBridge envelope.
//
// An admin API under /_connectsim/ lets tests and developers inspect every
// contact, every request counted by operation and outcome, and change agents,
// faults and the sign-in outcome at run time.
package connectsim
