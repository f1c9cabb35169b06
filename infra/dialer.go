package main

import (
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
)

// dialerResources are what the dialer capability creates.
type dialerResources struct {
	Function        awslambda.Function
	Table           awsdynamodb.Table
	Bus             awsevents.EventBus
	Bucket          awss3.Bucket
	DeadLetterQueue awssqs.Queue
}

// createDialer adds the outbound dialer: its function, campaigns table (with the due, inflight
// and active indexes), the recipients bucket, the custom event bus with a rule for Switchboard's
// control events, a rule for this instance's API-initiated contact events on the default bus,
// the one-minute schedule, a dead-letter queue for every event that could not be delivered,
// alarms and a dashboard. IAM is scoped to the instance, the two tables and the bucket.
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
	})
	str := awsdynamodb.AttributeType_STRING
	table.AddGlobalSecondaryIndex(gsi(campaignstore.IndexDue, "due_pk", str, "due_at", str))
	table.AddGlobalSecondaryIndex(gsi(campaignstore.IndexInFlight, "flight_pk", str, "flight_at", str))
	table.AddGlobalSecondaryIndex(gsi(campaignstore.IndexActive, "active_pk", str, "pk", str))

	bucket := awss3.NewBucket(s.Stack, jsii.String("RecipientsBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		// Recipient lists are personal data: they leave once the campaign is long over.
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(90)), NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(7))}},
	})

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
			outbound.EnvTickBudget:       dialerBudget,
		},
		Timeout:  dialerTimeout,
		MemoryMB: dialerMemoryMB,
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
	table.Grant(fn, jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:PutItem"), jsii.String("dynamodb:UpdateItem"),
		jsii.String("dynamodb:DeleteItem"), jsii.String("dynamodb:Query"))
	// The do-not-call list is read just before every dial, never written by the dialer.
	cf.DoNotCallTable.Grant(fn, jsii.String("dynamodb:GetItem"))
	bucket.GrantRead(fn, nil)

	dlq := awssqs.NewQueue(s.Stack, jsii.String("DialerDeadLetterQueue"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		EnforceSSL:      jsii.Bool(true),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
	})
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
				"eventType":        dialerevents.EndedEventTypes,
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	awsscheduler.NewSchedule(s.Stack, jsii.String("DialerTick"), &awsscheduler.ScheduleProps{
		Description: jsii.String("The dialer's minute tick"),
		Schedule:    awsscheduler.ScheduleExpression_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Target: awsschedulertargets.NewLambdaInvoke(fn, &awsschedulertargets.ScheduleTargetBaseProps{
			DeadLetterQueue: dlq,
			MaxEventAge:     awscdk.Duration_Minutes(jsii.Number(5)),
			RetryAttempts:   jsii.Number(2),
			Input: awsscheduler.ScheduleTargetInput_FromObject(map[string]any{
				"version": "0", "id": awsscheduler.ContextAttribute_ExecutionId(), "detail-type": dialerevents.TypeTick,
				"source": dialerevents.Source, "account": s.settings.Account, "time": awsscheduler.ContextAttribute_ScheduledTime(),
				"region": s.settings.Region, "resources": []*string{awsscheduler.ContextAttribute_ScheduleArn()},
				"detail": map[string]any{
					"scheduledTime": awsscheduler.ContextAttribute_ScheduledTime(),
					"executionId":   awsscheduler.ContextAttribute_ExecutionId(),
					"attemptNumber": awsscheduler.ContextAttribute_AttemptNumber(),
				},
			}),
		}),
	})

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
	dlqDepth := dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")})
	alarm("DialerDeadLettersAlarm", "Dialer events that could not be delivered or handled are waiting in the dead-letter queue", dlqDepth)
	alarm("DialerErrorsAlarm", "The dialer function failed (the event is retried, then dead-lettered)", fn.MetricErrors(five))
	alarm("DialerThrottlesAlarm", "Lambda throttled the dialer function", fn.MetricThrottles(five))

	awscloudwatch.NewDashboard(s.Stack, jsii.String("DialerDashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(s.settings.StackName + "-dialer"),
		Widgets: &[]*[]awscloudwatch.IWidget{{
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Dialer invocations and errors"),
				Left: &[]awscloudwatch.IMetric{fn.MetricInvocations(five), fn.MetricErrors(five), fn.MetricThrottles(five)}}),
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Dialer duration"),
				Left: &[]awscloudwatch.IMetric{fn.MetricDuration(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("p99")})}}),
			awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String("Dead letters"), Left: &[]awscloudwatch.IMetric{dlqDepth}}),
		}},
	})

	for id, o := range map[string][2]*string{
		"DialerEventBusName":       {bus.EventBusName(), jsii.String("Event bus for Campaign Launched/Updated/Paused/Resumed/Stopped, Call Requested and Call Stop Requested")},
		"RecipientsBucketName":     {bucket.BucketName(), jsii.String("S3 bucket for campaigns' recipient CSV files")},
		"CampaignsTableName":       {table.TableName(), jsii.String("DynamoDB table of campaigns and recipients")},
		"DialerDeadLetterQueueUrl": {dlq.QueueUrl(), jsii.String("SQS queue of dialer events that could not be handled")},
	} {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: o[0], Description: o[1]})
	}
	return dialerResources{Function: fn, Table: table, Bus: bus, Bucket: bucket, DeadLetterQueue: dlq}
}
