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
// # Operations
//
// Amazon Connect (SigV4 Authorization header required, signature not
// verified; the credential scope must name the world's Region and the
// "connect" service):
//
//	POST /contact/attributes                           UpdateContactAttributes
//	GET  /contact/attributes/{InstanceId}/{InitialContactId}  GetContactAttributes
//	GET  /contacts/{InstanceId}/{ContactId}            DescribeContact
//	PUT  /contact/outbound-voice                       StartOutboundVoiceContact
//	POST /contact/stop                                 StopContact
//	POST /metrics/current/{InstanceId}                 GetCurrentMetricData
//	POST /contact/update-participant-authentication    UpdateParticipantAuthentication
//	PUT  /users/{InstanceId}                           CreateUser
//	GET  /users/{InstanceId}/{UserId}                  DescribeUser
//	GET  /users-summary/{InstanceId}                   ListUsers (?maxResults=&nextToken=)
//	DELETE /users/{InstanceId}/{UserId}                DeleteUser
//	POST /users/{InstanceId}/{UserId}/identity-info    UpdateUserIdentityInfo
//	POST /users/{InstanceId}/{UserId}/phone-config     UpdateUserPhoneConfig
//	POST /users/{InstanceId}/{UserId}/routing-profile  UpdateUserRoutingProfile
//	POST /users/{InstanceId}/{UserId}/security-profiles UpdateUserSecurityProfiles
//	POST /users/{InstanceId}/{UserId}/hierarchy        UpdateUserHierarchy
//	GET  /user-hierarchy-structure/{InstanceId}        DescribeUserHierarchyStructure
//	GET  /user-hierarchy-groups/{InstanceId}/{HierarchyGroupId}  DescribeUserHierarchyGroup
//	GET  /user-hierarchy-groups-summary/{InstanceId}   ListUserHierarchyGroups
//	GET  /routing-profiles-summary/{InstanceId}        ListRoutingProfiles
//	GET  /security-profiles-summary/{InstanceId}       ListSecurityProfiles
//	POST /metrics/historical/{InstanceId}              GetMetricData
//	GET  /user/federate/{InstanceId}                   GetFederationToken (the access key ID names the user)
//
// Connect Participant Service (X-Amz-Bearer connection token required):
//
//	POST /participant/authentication-url      GetAuthenticationUrl {SessionId, RedirectUri} -> {AuthenticationUrl}
//	POST /participant/cancel-authentication   CancelParticipantAuthentication {SessionId} -> {}
//	POST /participant/start-attachment-upload StartAttachmentUpload -> {AttachmentId, UploadMetadata}
//	POST /participant/complete-attachment-upload  CompleteAttachmentUpload {AttachmentIds, ClientToken} -> {}
//	POST /participant/attachment              GetAttachment {AttachmentId, UrlExpiryInSeconds} -> {Url, UrlExpiry, AttachmentSizeInBytes}
//
// The pre-signed attachment URLs are served by connectsim itself, S3's way (XML errors):
//
//	PUT /attachment-store/{AttachmentId}?X-Amz-...   upload, with the HeadersToInclude (Content-Type)
//	GET /attachment-store/{AttachmentId}?X-Amz-...   download a completed attachment
//
// # Users are the agents
//
// The world's instances have users, routing and security profiles and an agent hierarchy of up
// to five levels; the user operations change them. The agents of an instance are the roster:
// the world's agents (an agent whose ID is a user's is that user) and the users the admin API
// staffs (SetAgentStatus, PUT /_connectsim/agents/{instanceId}/{userId}/status). A user serves
// the queues of its routing profile, and its after-contact work is its phone configuration's
// AfterContactWorkTimeLimit (0, "no limit": the world's calls.afterContactWork). Anonymous
// agents (SetAgents, SetStaffedAgents) serve their own queues, in the instance's first routing
// profile.
//
// Cognito hosted sign-in stand-in:
//
//	GET /oauth2/authorize?response_type=code&client_id=..&redirect_uri=..&state=..
//	    302 to redirect_uri?code=..&state=.. (or ?error=..&error_description=..&state=..
//	    after SetSignInOutcome); 400 page for an unknown client or redirect URI.
//
// Error choices where the reference leaves room: model constraint
// violations (missing members, lengths, ranges, enums) answer
// InvalidRequestException with AWS's "1 validation error detected" message;
// service rules (E.164 numbers, attribute keys, the 32,768-byte attribute
// budget, an unusable queue caller ID) answer InvalidParameterException;
// unknown instance, flow, queue, phone number or (attribute operations and
// DescribeContact) contact answer ResourceNotFoundException; StopContact on
// an unknown or ended contact answers ContactNotFoundException (410);
// UpdateParticipantAuthentication, whose error list has no
// ResourceNotFoundException, answers InvalidParameterException for an unknown
// instance, InvalidRequestException for an unknown or expired state and
// ConflictException for a completed session. The Participant Service answers
// ValidationException (400) and InternalServerException (500). The user operations answer
// model violations with InvalidRequestException (never echoing a sensitive value), the
// reference's rules for the instance's identity management type (username, password, names,
// email), E.164 numbers, the phone configuration and invalid NextTokens with
// InvalidParameterException, unknown users, profiles and groups with ResourceNotFoundException,
// a taken username with DuplicateResourceException (409) and the users quota with
// LimitExceededException. StartOutboundVoiceContact with TrafficType=CAMPAIGN answers
// LimitExceededException where the world refuses campaign calls (refuseCampaignCalls).
//
// # Calls
//
// A call placed by StartOutboundVoiceContact gets an outcome drawn from the world's shares
// (or forced per number): a person answers (ANSWERED), a voicemail answers (VOICEMAIL), it
// rings out (NO_ANSWER), or it fails as BUSY, INVALID_NUMBER, FAILED (network) or
// CARRIER_BLOCKED. It emits INITIATED; when a person or voicemail picks up (after the ring
// time) CONNECTED_TO_SYSTEM with connectedToSystemTimestamp, QUEUED after the flow delay,
// CONNECTED_TO_AGENT as soon as an agent serving the queue is available, and DISCONNECTED. A
// call that never connects media goes straight to DISCONNECTED. COMPLETED follows when the
// agent ends after-contact work (with the agentInfo ACW fields), or straight after
// DISCONNECTED without ACW; CONTACT_DATA_UPDATED follows UpdateContactAttributes. Events
// carry tags (aws:connect:instanceId, aws:connect:systemEndpoint) and list the contact ARN,
// then the instance ARN, in resources. DescribeContact's
// DisconnectReason carries the contact-record value (CUSTOMER_DISCONNECT, AGENT_DISCONNECT,
// TELECOM_TIMEOUT, TELECOM_BUSY, TELECOM_NUMBER_INVALID, TELECOM_PROBLEM,
// TELECOM_POTENTIAL_BLOCKING, CONTACT_FLOW_DISCONNECT, TELECOM_ORIGINATOR_CANCEL or OTHER
// after StopContact); DISCONNECTED events carry disconnectReason only for outbound-campaign
// media failures. TrafficType=CAMPAIGN calls with answering machine detection report
// AnsweringMachineDetectionStatus after the detection delay. A SAFE_HARBOUR flow (Switchboard's
// outbound flow) queues the answered call; if no agent takes it within the flow's threshold
// (default 2 s) it sets the contact attribute switchboard_safe_harbour, plays its message and
// hangs up (CONTACT_FLOW_DISCONNECT, no agentInfo). Contacts made with CreateContact
// or StartChatAuthentication emit no events. Every voice contact that has not ended counts
// against the instance's concurrent active calls quota (LimitExceededException).
//
// # Admin API
//
// Under /_connectsim/, JSON in and out, errors as {"message": ...}:
//
//	GET    /_connectsim/contacts               every contact with its full history
//	GET    /_connectsim/contacts/{id}          one contact
//	POST   /_connectsim/contacts               CreateContact: NewContact JSON -> 201 ContactView
//	GET    /_connectsim/stats                  Stats: requests by operation and outcome, highest concurrency
//	GET    /_connectsim/world                  the World in use
//	GET    /_connectsim/agents/{instanceId}    agents with what they are doing
//	PUT    /_connectsim/agents/{instanceId}    SetAgents: [Agent, ...]
//	PUT    /_connectsim/agents/{instanceId}/staffed  SetStaffedAgents: {"count": 5}
//	PUT    /_connectsim/agents/{instanceId}/{agentId}/status  SetAgentStatus: {"status": "AVAILABLE"} (a user joins the roster)
//	POST   /_connectsim/chats                  StartChat: {"instanceId":"..."} -> 201 {contactId, participantToken}
//	GET    /_connectsim/attachments            Attachments: every chat attachment and its status
//	GET    /_connectsim/faults                 faults in force, by operation
//	PUT    /_connectsim/faults/{operation}     SetFault: {"kind":"latency","latency":"2s","probability":0.5,"count":3}
//	                                           kinds throttle, internal, latency, drop act before the operation;
//	                                           drop-after, internal-after, latency-after run it, then lose the answer
//	DELETE /_connectsim/faults                 ClearFaults
//	DELETE /_connectsim/faults/{operation}     remove one fault
//	PUT    /_connectsim/sign-in-outcome        SetSignInOutcome: {"error":"access_denied","errorDescription":"..."} ({} for success)
//	POST   /_connectsim/chat-authentication    StartChatAuthentication: {"instanceId":"..."} -> 201 ChatAuth
//	GET    /_connectsim/auth-sessions          AuthSessions
//	POST   /_connectsim/subscribers            AddSubscriber: {"url":"http://..."}
//	GET    /_connectsim/delivery               event delivery settings (EventDelivery)
//	PUT    /_connectsim/delivery               SetDelivery: {"lossProbability":0.2,"delayProbability":0.1,"maxDelay":"500ms"}
//	GET    /_connectsim/abandonment            Abandonment: ?threshold=2s&startPoint=answer|flow&from=&to=&campaignId=&instanceId=&contacts=true
//	                                           (placed calls answered by a person and not connected to an agent within the threshold)
//	POST   /_connectsim/drain                  Drain (10 s): {"drained": true}
//	POST   /_connectsim/advance                Advance a manual clock: {"duration":"30s"} (409 otherwise)
//	GET    /_connectsim/clock                  ClockState: {"now":"2027-03-13T08:00:00-05:00","manual":true}
//	POST   /_connectsim/reset                  Reset
//
// Operation names (for faults, throttle settings and counters) are the SDK's:
// UpdateContactAttributes, GetContactAttributes, DescribeContact,
// StartOutboundVoiceContact, StopContact, GetCurrentMetricData,
// UpdateParticipantAuthentication, GetAuthenticationUrl,
// CancelParticipantAuthentication, the user, hierarchy and profile operations above,
// GetMetricData, GetFederationToken, StartAttachmentUpload, CompleteAttachmentUpload,
// GetAttachment, or "*" for a fault on all of them.
// Outcomes are "ok", the error type answered, "dropped" or "canceled"; a fault of an "-after"
// kind counts the operation's own outcome, "+" and what the client got ("ok+dropped",
// "ok+InternalServiceException", "ok+canceled").
package connectsim
