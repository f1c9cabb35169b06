package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	dialerevents "github.com/switchboard-connect/switchboard/events/dialer"
	"github.com/switchboard-connect/switchboard/shared/callwindow"
	"github.com/switchboard-connect/switchboard/shared/campaignstore"
	"github.com/switchboard-connect/switchboard/shared/outbound"
)

// Dialer function settings: a tick dials until a second before the next one (TICK_BUDGET 57 s
// at most); the timeout leaves room for the tick's upkeep, the wait for the previous tick's lease
// and the lease release.
const (
	dialerTimeout  = 75 * time.Second
	dialerMemoryMB = 256
	dialerBudget   = "57s"
	// dialerAsyncRetries is Lambda's default, said out loud: every handler of the dialer may run
	// again (docs/dialer.md, "Replaying is safe"), and its failures are transient (a DynamoDB
	// throttle, a Connect 5xx), so two more tries a minute and then two minutes apart
	// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html) are worth it.
	dialerAsyncRetries = 2
	// dialerMaxEventAge is how long Lambda keeps trying an event (60 s to 6 h; default 6 h): as
	// long as the EventBridge rules keep trying to deliver one (their MaxEventAge below). It
	// covers the retries of a function error (about 3 minutes plus three 75 s timeouts) and
	// Lambda's own retries of a throttled function. An older event goes to the on-failure queue
	// with its alarm instead of being applied late: a Campaign Paused that a later Campaign
	// Resumed overtook should be seen by an operator, not replayed hours later by Lambda.
	dialerMaxEventAge = 2 * time.Hour
	// recipientsAccessLogDays keeps the recipients bucket's access logs a year: beyond the
	// 90 days its lists live, as long as a question about who read one can come in.
	recipientsAccessLogDays = 365
)

// dialerResources are what the dialer capability creates.
type dialerResources struct {
	Function        awslambda.Function
	Table           awsdynamodb.Table
	Bus             awsevents.EventBus
	Bucket          awss3.Bucket
	DeadLetterQueue awssqs.Queue
	OnFailureQueue  awssqs.Queue
}

// createDialer adds the outbound dialer: its function, campaigns table (with the due, inflight
// and active indexes), the recipients bucket, the custom event bus with a rule for Switchboard's
// control events, a rule for this instance's API-initiated contact events on the default bus,
// the one-minute schedule, a dead-letter queue for every event that could not be delivered, an
// on-failure queue for every event the function failed on, alarms and a dashboard. IAM is scoped to the instance, the two tables and the bucket.
func (s *switchboardStack) createDialer(cf contactFlowResources) dialerResources {
	gsi := func(name, hash string, hashType awsdynamodb.AttributeType, rng string, rngType awsdynamodb.AttributeType) *awsdynamodb.GlobalSecondaryIndexProps {
		return &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(name),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(hash), Type: hashType},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(rng), Type: rngType},
			ProjectionType: awsdynamodb.ProjectionType_KEYS_ONLY,
		}
	}
	table := awsdynamodb.NewTable(s.Stack, jsii.String("CampaignsTable"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// Every recipient's attempts and outcomes are the campaign's record: keep them.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		// The audit trail's items expire after campaignstore.AuditRetention (five years).
		TimeToLiveAttribute: jsii.String("expires_at"),
	})
	str := awsdynamodb.AttributeType_STRING
	table.AddGlobalSecondaryIndex(gsi(campaignstore.IndexDue, "due_pk", str, "due_at", str))
	table.AddGlobalSecondaryIndex(gsi(campaignstore.IndexInFlight, "flight_pk", str, "flight_at", str))
	table.AddGlobalSecondaryIndex(gsi(campaignstore.IndexActive, "active_pk", str, "pk", str))

	// Who read or replaced a recipient list is worth knowing for as long as a complaint about a
	// call can come in: the server access logs of the recipients bucket land here.
	accessLogs := awss3.NewBucket(s.Stack, jsii.String("RecipientsAccessLogsBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		// SSE-S3: the log delivery service needs no key grant (SSE-KMS would need a key policy for it).
		Encryption:     awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:     jsii.Bool(true),
		RemovalPolicy:  awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(recipientsAccessLogDays))}},
	})
	bucket := awss3.NewBucket(s.Stack, jsii.String("RecipientsBucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("recipients/"),
		// Recipient lists are personal data: they leave once the campaign is long over.
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(90)), NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(7))}},
	})

	// Every event the function itself failed on (after Lambda's retries, or too old to try
	// again) lands here as an invocation record; the events EventBridge and Scheduler could not
	// deliver to Lambda land in DialerDeadLetterQueue below. docs/dialer.md, "When an event
	// fails", says how to read and replay both.
	onFailure := awssqs.NewQueue(s.Stack, jsii.String("DialerOnFailureQueue"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)), // SQS's longest
		EnforceSSL:      jsii.Bool(true),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
	})
	suppressNag(onFailure, "AwsSolutions-SQS3", "This queue is itself where failed events end: the on-failure destination of the dialer function's asynchronous invocations (its EventInvokeConfig); cdk-nag only recognises queues named in another queue's RedrivePolicy")
	fn := NewGoFunction(s.Stack, "DialerFunction", &GoFunctionProps{
		AssetsDir:   s.settings.AssetsDir,
		Name:        "dialer",
		Description: "Switchboard: outbound campaigns with StartOutboundVoiceContact",
		Environment: map[string]string{
			outbound.EnvCampaignsTable:   *table.TableName(),
			outbound.EnvDoNotCallTable:   *cf.DoNotCallTable.TableName(),
			outbound.EnvRecipientsBucket: *bucket.BucketName(),
			outbound.EnvCallsPerSecond:   orDefault(s.settings.DialCallsPerSecond, "2"),
			outbound.EnvBurst:            orDefault(s.settings.DialBurst, "5"),
			outbound.EnvMaxLive:          orDefault(s.settings.DialMaxConcurrentCalls, "10"),
			outbound.EnvDialConcurrency:  orDefault(s.settings.DialConcurrency, strconv.Itoa(outbound.DefaultDialConcurrency)),
			outbound.EnvWatchdogRate:     orDefault(s.settings.DialWatchdogRate, strconv.FormatFloat(outbound.DefaultWatchdogRate, 'g', -1, 64)),
			outbound.EnvTickBudget:       dialerBudget,
			outbound.EnvLegalHours:       orDefault(s.settings.DialLegalHours, callwindow.DefaultLegalHours),
		},
		Timeout:  dialerTimeout,
		MemoryMB: dialerMemoryMB,
		Async:    &AsyncInvoke{OnFailure: onFailure, RetryAttempts: dialerAsyncRetries, MaxEventAge: dialerMaxEventAge},
	})
	// Dialling, ending and describing contacts of this instance only; the agent metrics of its
	// queues for progressive pacing.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("connect:StartOutboundVoiceContact", "connect:StopContact", "connect:DescribeContact"),
		Resources: jsii.Strings(s.settings.InstanceResourceARN("contact/*")),
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("connect:GetCurrentMetricData"),
		Resources: jsii.Strings(s.settings.InstanceARN, s.settings.InstanceResourceARN("queue/*")),
	}))
	// Items of the table; Query also on each of its three indexes, by name (table.Grant would
	// add <table>/index/* for every action).
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"),
		Resources: &[]*string{table.TableArn()},
	}))
	var indexArns []*string
	for _, index := range []string{campaignstore.IndexDue, campaignstore.IndexInFlight, campaignstore.IndexActive} {
		indexArns = append(indexArns, awscdk.Fn_Join(jsii.String(""), &[]*string{table.TableArn(), jsii.String("/index/" + index)}))
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:Query"),
		Resources: &indexArns,
	}))
	// The do-not-call list is read just before every dial, never written by the dialer.
	cf.DoNotCallTable.Grant(fn, jsii.String("dynamodb:GetItem"))
	// An import only reads the object a campaign names, in ranges (shared/recipients), and only
	// the version it found at the launch: a GetObject with a versionId needs s3:GetObjectVersion
	// ("If you include a versionId in your request header, you must have the
	// s3:GetObjectVersion permission", API_GetObject.html), HeadObject at the launch
	// s3:GetObject. ListBucket lets S3 answer 404 rather than 403 for a key that is not there, so
	// that the campaign's error says the file is missing
	// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). bucket.GrantRead
	// would add s3:GetObject*, s3:GetBucket* and s3:List*.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
		Resources: &[]*string{bucket.ArnForObjects(jsii.String("*"))},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: &[]*string{bucket.BucketArn()},
	}))
	suppressNag(fn.Role(), "AwsSolutions-IAM5", connectContactsReason, "Resource::"+s.settings.InstanceResourceARN("contact/*"))
	suppressNag(fn.Role(), "AwsSolutions-IAM5", "GetCurrentMetricData reads the agents available on the queues each campaign names at run time (its queueId, or the deployer's default): queue/* below this one instance ARN is the narrowest resource that covers any campaign's queue",
		"Resource::"+s.settings.InstanceResourceARN("queue/*"))
	suppressNag(fn.Role(), "AwsSolutions-IAM5", "Each campaign names its recipients CSV by key at run time; s3:GetObject and s3:GetObjectVersion are granted on the objects of the stack's own recipients bucket only, and no other S3 action on them",
		regexp.MustCompile(`^Resource::`+logicalIDArn("RecipientsBucket")+`/\*$`))

	dlq := awssqs.NewQueue(s.Stack, jsii.String("DialerDeadLetterQueue"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		EnforceSSL:      jsii.Bool(true),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
	})
	suppressNag(dlq, "AwsSolutions-SQS3", "This queue is itself the dead-letter queue of the dialer's two EventBridge rule targets and of its Scheduler target (their DeadLetterConfig); cdk-nag only recognises queues named in another queue's RedrivePolicy")
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: dlq, MaxEventAge: awscdk.Duration_Hours(jsii.Number(2)), RetryAttempts: jsii.Number(4),
		})
	}
	bus := awsevents.NewEventBus(s.Stack, jsii.String("DialerBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(s.settings.StackName + "-dialer"),
	})
	awsevents.NewRule(s.Stack, jsii.String("DialerControlRule"), &awsevents.RuleProps{
		EventBus:     bus,
		Description:  jsii.String("Switchboard's campaign control events to the dialer"),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings(dialerevents.Source), DetailType: jsii.Strings(dialerevents.ControlDetailTypes()...)},
		Targets:      &[]awsevents.IRuleTarget{target()},
	})
	awsevents.NewRule(s.Stack, jsii.String("DialerContactEventsRule"), &awsevents.RuleProps{
		Description: jsii.String("This instance's API-initiated contacts ending, to the dialer"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(dialerevents.SourceConnect),
			DetailType: jsii.Strings(dialerevents.TypeContactEvent),
			Detail: &map[string]any{
				"instanceArn":      []string{s.settings.InstanceARN},
				"initiationMethod": []string{dialerevents.InitiationMethodAPI},
				"eventType":        dialerevents.ContactEventTypes,
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	// The role the schedule invokes with, ours (with the trust CDK would give its shared one) so
	// that its finding can carry a reason.
	tickRole := awsiam.NewRole(s.Stack, jsii.String("DialerTickRole"), &awsiam.RoleProps{
		Description: jsii.String("Switchboard dialer tick: EventBridge Scheduler invokes the dialer function"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"aws:SourceAccount": s.settings.Account,
				"aws:SourceArn":     "arn:" + s.settings.Partition + ":scheduler:" + s.settings.Region + ":" + s.settings.Account + ":schedule-group/default",
			}},
		}),
	})
	// One schedule per execution (dialExecutions): Scheduler invokes the function once for each
	// every minute, asynchronously, so Lambda runs them at once, each for its partition
	// (outbound.Partition: its own lease, shards and share of the rate and the cap).
	executions := s.settings.DialExecutionCount()
	for i := 0; i < executions; i++ {
		id, detail := "DialerTick", map[string]any{
			"scheduledTime": awsscheduler.ContextAttribute_ScheduledTime(),
			"executionId":   awsscheduler.ContextAttribute_ExecutionId(),
			"attemptNumber": awsscheduler.ContextAttribute_AttemptNumber(),
		}
		if executions > 1 {
			detail["partition"], detail["partitions"] = i, executions
			if i > 0 {
				id = fmt.Sprintf("DialerTick%d", i)
			}
		}
		awsscheduler.NewSchedule(s.Stack, jsii.String(id), &awsscheduler.ScheduleProps{
			Description: jsii.String(fmt.Sprintf("The dialer's minute tick, partition %d of %d", i, executions)),
			Schedule:    awsscheduler.ScheduleExpression_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
			Target: awsschedulertargets.NewLambdaInvoke(fn, &awsschedulertargets.ScheduleTargetBaseProps{
				Role:            tickRole,
				DeadLetterQueue: dlq,
				MaxEventAge:     awscdk.Duration_Minutes(jsii.Number(5)),
				RetryAttempts:   jsii.Number(2),
				Input: awsscheduler.ScheduleTargetInput_FromObject(map[string]any{
					"version": "0", "id": awsscheduler.ContextAttribute_ExecutionId(), "detail-type": dialerevents.TypeTick,
					"source": dialerevents.Source, "account": s.settings.Account, "time": awsscheduler.ContextAttribute_ScheduledTime(),
					"region": s.settings.Region, "resources": []*string{awsscheduler.ContextAttribute_ScheduleArn()},
					"detail": detail,
				}),
			}),
		})
	}

	// After the schedule: its target adds the role's policy (suppressNag reaches existing children).
	suppressNag(tickRole, "AwsSolutions-IAM5", "The Scheduler target's grantInvoke adds <dialer function ARN>:* beside the function ARN: the versions and aliases of this one function, which the schedule never names; no other function is covered",
		regexp.MustCompile(`^Resource::`+logicalIDArn("DialerFunction")+`:\*$`))

	alarm := func(id, what string, metric awscloudwatch.IMetric) awscloudwatch.Alarm {
		return awscloudwatch.NewAlarm(s.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(what),
			Metric:             metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	five := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	depth := func(q awssqs.Queue) awscloudwatch.Metric {
		return q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")})
	}
	dlqDepth, onFailureDepth := depth(dlq), depth(onFailure)
	alarm("DialerDeadLettersAlarm", "Dialer events that EventBridge or Scheduler could not deliver to the function are waiting in DialerDeadLetterQueue (docs/dialer.md, When an event fails)", dlqDepth)
	alarm("DialerOnFailureQueueAlarm", "Dialer events the function failed on, after Lambda's retries, are waiting in DialerOnFailureQueue: replay them (docs/dialer.md, When an event fails)", onFailureDepth)
	// Lambda counts a record it could not send to the destination: that event is lost
	// (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
	alarm("DialerDestinationDeliveryFailuresAlarm", "Lambda could not put a failed dialer event into DialerOnFailureQueue: the event is lost", fn.Metric(jsii.String("DestinationDeliveryFailures"), five))
	alarm("DialerErrorsAlarm", "The dialer function failed (Lambda retries the event twice, then keeps it in DialerOnFailureQueue)", fn.MetricErrors(five))
	alarm("DialerThrottlesAlarm", "Lambda throttled the dialer function", fn.MetricThrottles(five))

	awscloudwatch.NewDashboard(s.Stack, jsii.String("DialerDashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(s.settings.StackName + "-dialer"),
		Widgets: &[]*[]awscloudwatch.IWidget{{
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Dialer invocations and errors"),
				Left: &[]awscloudwatch.IMetric{fn.MetricInvocations(five), fn.MetricErrors(five), fn.MetricThrottles(five)}}),
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Dialer duration"),
				Left: &[]awscloudwatch.IMetric{fn.MetricDuration(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("p99")})}}),
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Dead letters"), Left: &[]awscloudwatch.IMetric{dlqDepth, onFailureDepth}}),
		}},
	})

	for id, o := range map[string][2]*string{
		"DialerEventBusName":       {bus.EventBusName(), jsii.String("Event bus for Campaign Launched/Updated/Paused/Resumed/Stopped, Call Requested and Call Stop Requested")},
		"RecipientsBucketName":     {bucket.BucketName(), jsii.String("S3 bucket for campaigns' recipient CSV files")},
		"CampaignsTableName":       {table.TableName(), jsii.String("DynamoDB table of campaigns and recipients")},
		"DialerDeadLetterQueueUrl": {dlq.QueueUrl(), jsii.String("SQS queue of dialer events EventBridge or Scheduler could not deliver (the events themselves)")},
		"DialerOnFailureQueueUrl":  {onFailure.QueueUrl(), jsii.String("SQS queue of dialer events the function failed on after Lambda's retries (invocation records: the event is requestPayload)")},
	} {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: o[0], Description: o[1]})
	}
	return dialerResources{Function: fn, Table: table, Bus: bus, Bucket: bucket, DeadLetterQueue: dlq, OnFailureQueue: onFailure}
}
