import { ApplicationAutoScalingClient } from "@aws-sdk/client-application-auto-scaling";
import { AwsAutoscaler } from "@surge/api/autoscaling/aws";
import { FILTER_POLICIES } from "@surge/core";
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { PASSWORD_EXCLUDED_CHARACTERS } from "../lib/database.js";
import { INIT_DURATION_QUERY } from "../lib/lambda-processor.js";
import { SCALABLE_TARGET_TAG } from "../lib/permissions.js";
import { API_PATHS } from "../lib/surge-stack.js";
import { AGE_POLICY_NAME, BACKLOG_POLICY_NAME } from "../lib/worker-autoscaling.js";
import { findResource, resolveIntrinsics, resourcesOfType, type Synthesized, synthesize } from "./cdk-harness.js";

const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

/** CloudFormation's upper-camel keys → the SDK's input shape, for comparing policies. */
function pascal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascal);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), pascal(v)]),
    );
  }
  return value;
}

describe("the dev stage (defaults: HTTP, no console)", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  });

  it("a VPC across two AZs: public subnets for the load balancer, private ones with NAT for tasks, isolated ones for data", () => {
    s.template.resourceCountIs("AWS::EC2::VPC", 1);
    s.template.resourceCountIs("AWS::EC2::Subnet", 6);
    s.template.resourceCountIs("AWS::EC2::NatGateway", 1);
    const subnetTypes = resourcesOfType(s.json, "AWS::EC2::Subnet").map(
      ([, r]) =>
        ((r.Properties?.Tags as Array<{ Key: string; Value: string }>) ?? []).find(
          (t) => t.Key === "aws-cdk:subnet-type",
        )?.Value,
    );
    expect(subnetTypes.sort()).toEqual(["Isolated", "Isolated", "Private", "Private", "Public", "Public"]);
    s.template.hasResourceProperties("AWS::EC2::VPCEndpoint", { VpcEndpointType: "Gateway" });
  });

  it("an internet-facing ALB whose only listener forwards to the API, health-checked on /health", () => {
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", { Scheme: "internet-facing" });
    s.template.resourceCountIs("AWS::ElasticLoadBalancingV2::Listener", 1);
    const [apiTargets] = findResource(s.json, "AWS::ElasticLoadBalancingV2::TargetGroup", { Port: 8080 });
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      Port: 8080,
      TargetType: "ip",
      HealthCheckPath: "/health",
      Matcher: { HttpCode: "200" },
    });
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 80,
      Protocol: "HTTP",
      DefaultActions: [{ Type: "forward", TargetGroupArn: { Ref: apiTargets } }],
    });
    // Prometheus text is for scrapers inside the VPC, never the internet.
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::ListenerRule", {
      Priority: 1,
      Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: ["/metrics", "/metrics/*"] } }],
      Actions: [
        Match.objectLike({ Type: "fixed-response", FixedResponseConfig: Match.objectLike({ StatusCode: "404" }) }),
      ],
    });
  });

  it("the SNS topic fans out to the orders queue with raw delivery and the workers' route", () => {
    s.template.hasResourceProperties("AWS::SNS::Topic", { TopicName: "surge-dev-orders" });
    s.template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "sqs",
      RawMessageDelivery: true,
      FilterPolicy: FILTER_POLICIES.workers,
    });
  });

  it("the orders queue: redrive to the DLQ after maxReceiveCount, derived visibility, long polling, retention", () => {
    const [dlqId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders-dlq" });
    s.template.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: "surge-dev-orders",
      VisibilityTimeout: 16,
      ReceiveMessageWaitTimeSeconds: 20,
      MessageRetentionPeriod: 4 * 86_400,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    // Moved messages keep their enqueue time: the DLQ must keep them longer than the source does.
    s.template.hasResourceProperties("AWS::SQS::Queue", {
      QueueName: "surge-dev-orders-dlq",
      MessageRetentionPeriod: 14 * 86_400,
    });
  });

  it("PostgreSQL on RDS: encrypted, private, TLS forced, credentials generated into Secrets Manager", () => {
    s.template.hasResourceProperties("AWS::RDS::DBInstance", {
      Engine: "postgres",
      EngineVersion: Match.stringLikeRegexp("^17"),
      StorageEncrypted: true,
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
    });
    s.template.hasResourceProperties("AWS::RDS::DBParameterGroup", { Parameters: { "rds.force_ssl": "1" } });
    s.template.hasResourceProperties("AWS::SecretsManager::Secret", {
      Name: "surge/dev/database-master",
      GenerateSecretString: Match.objectLike({ ExcludeCharacters: PASSWORD_EXCLUDED_CHARACTERS }),
    });
    // The URL secret holds a dynamic reference, never the password itself.
    const [, url] = findResource(s.json, "AWS::SecretsManager::Secret", { Name: "surge/dev/database-url" });
    expect(JSON.stringify(url.Properties?.SecretString)).toContain("{{resolve:secretsmanager:");
    const [, subnetGroup] = resourcesOfType(s.json, "AWS::RDS::DBSubnetGroup")[0] ?? [];
    const subnetIds = JSON.stringify(subnetGroup?.Properties?.SubnetIds);
    expect(subnetIds).toMatch(/dataSubnet1/);
    expect(subnetIds).not.toMatch(/tasksSubnet|publicSubnet/);
  });

  it("ECS Fargate for API and worker at the study's 256 CPU / 512 MB, with Container Insights on the cluster", () => {
    s.template.hasResourceProperties("AWS::ECS::Cluster", {
      ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }],
    });
    for (const family of ["surge-dev-api", "surge-dev-worker"]) {
      s.template.hasResourceProperties("AWS::ECS::TaskDefinition", {
        Family: family,
        Cpu: "256",
        Memory: "512",
        RequiresCompatibilities: ["FARGATE"],
        ContainerDefinitions: [
          Match.objectLike({
            Image: Match.objectLike({ "Fn::Sub": Match.stringLikeRegexp("container-assets") }),
            ReadonlyRootFilesystem: true,
            LinuxParameters: Match.objectLike({ InitProcessEnabled: true }),
            LogConfiguration: Match.objectLike({ LogDriver: "awslogs" }),
          }),
        ],
      });
    }
    s.template.hasResourceProperties("AWS::Logs::LogGroup", {
      LogGroupName: "/surge/surge-dev-worker",
      RetentionInDays: 14,
    });
  });

  it("the worker's stopTimeout is its shutdown deadline plus the hand-back margin", () => {
    s.template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      Family: "surge-dev-worker",
      ContainerDefinitions: [
        Match.objectLike({
          Name: "worker",
          StopTimeout: 30,
          Environment: Match.arrayWith([{ Name: "SHUTDOWN_DEADLINE_MS", Value: "25000" }]),
        }),
      ],
    });
  });

  it("services run in private subnets without public IPs, roll back failed deployments, and only the API sets a desired count", () => {
    for (const name of ["surge-dev-api", "surge-dev-worker"]) {
      s.template.hasResourceProperties("AWS::ECS::Service", {
        ServiceName: name,
        LaunchType: "FARGATE",
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: "DISABLED" }) },
        DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
      });
    }
    const [, worker] = findResource(s.json, "AWS::ECS::Service", { ServiceName: "surge-dev-worker" });
    // Autoscaling and the ops plane own it; a deploy must not reset a fleet mid-flash-sale.
    expect(worker.Properties).not.toHaveProperty("DesiredCount");
    s.template.hasResourceProperties("AWS::ECS::Service", { ServiceName: "surge-dev-api", DesiredCount: 1 });
  });

  it("Application Auto Scaling tracks backlog per task with metric math: visible messages ÷ running tasks", () => {
    s.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      ServiceNamespace: "ecs",
      ScalableDimension: "ecs:service:DesiredCount",
      MinCapacity: 1,
      MaxCapacity: 50,
      Tags: Match.arrayWith([{ Key: SCALABLE_TARGET_TAG, Value: "surge-dev-worker" }]),
    });
    const [, policy] = findResource(s.json, "AWS::ApplicationAutoScaling::ScalingPolicy", {
      PolicyName: BACKLOG_POLICY_NAME,
    });
    const config = policy.Properties?.TargetTrackingScalingPolicyConfiguration as Record<string, unknown>;
    expect(policy.Properties?.PolicyType).toBe("TargetTrackingScaling");
    expect(config).toMatchObject({
      TargetValue: 50,
      ScaleOutCooldown: 60,
      ScaleInCooldown: 300,
      DisableScaleIn: false,
    });
    const metrics = (config.CustomizedMetricSpecification as { Metrics: Array<Record<string, unknown>> }).Metrics;
    const byId = Object.fromEntries(metrics.map((m) => [m.Id, m]));
    expect(resolveIntrinsics(s.json, byId.visible)).toEqual({
      Id: "visible",
      MetricStat: {
        Metric: {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateNumberOfMessagesVisible",
          Dimensions: [{ Name: "QueueName", Value: "surge-dev-orders" }],
        },
        Stat: "Sum",
      },
      ReturnData: false,
    });
    expect(resolveIntrinsics(s.json, byId.running)).toMatchObject({
      MetricStat: {
        Metric: {
          Namespace: "ECS/ContainerInsights",
          MetricName: "RunningTaskCount",
          Dimensions: [
            { Name: "ClusterName", Value: "surge-dev" },
            { Name: "ServiceName", Value: "surge-dev-worker" },
          ],
        },
        Stat: "Average",
      },
      ReturnData: false,
    });
    expect(byId.backlog_per_task).toMatchObject({ Expression: "visible / running", ReturnData: true });
    expect(metrics.filter((m) => m.ReturnData === true)).toHaveLength(1);
  });

  it("the deployed policy is the one the API's autoscaler writes, so an operator's change updates it", () => {
    const [, policy] = findResource(s.json, "AWS::ApplicationAutoScaling::ScalingPolicy", {
      PolicyName: BACKLOG_POLICY_NAME,
    });
    const deployed = resolveIntrinsics(s.json, policy.Properties?.TargetTrackingScalingPolicyConfiguration);
    const api = new AwsAutoscaler({
      client: new ApplicationAutoScalingClient({ region: "eu-west-1" }),
      cluster: "surge-dev",
      service: "surge-dev-worker",
      queueName: "surge-dev-orders",
      store: { getSetting: async () => undefined, setSetting: async () => {} },
      activities: {} as never,
      defaults: {} as never,
    }).policyInput({
      enabled: true,
      minTasks: 1,
      maxTasks: 50,
      targetBacklogPerTask: 50,
      scaleOutCooldownSeconds: 60,
      scaleInCooldownSeconds: 300,
      targetOldestAgeSeconds: null,
    });
    expect(api.PolicyName).toBe(BACKLOG_POLICY_NAME);
    expect(pascal(deployed)).toEqual(api.TargetTrackingScalingPolicyConfiguration);
  });

  it("a second target tracking policy on the queue's oldest message age, the one the API's autoscaler writes", () => {
    const [, policy] = findResource(s.json, "AWS::ApplicationAutoScaling::ScalingPolicy", {
      PolicyName: AGE_POLICY_NAME,
    });
    const [, backlog] = findResource(s.json, "AWS::ApplicationAutoScaling::ScalingPolicy", {
      PolicyName: BACKLOG_POLICY_NAME,
    });
    // Both on the worker service's scalable target: Application Auto Scaling follows the larger need.
    expect(policy.Properties?.ScalingTargetId).toEqual(backlog.Properties?.ScalingTargetId);
    expect(policy.Properties?.PolicyType).toBe("TargetTrackingScaling");
    const deployed = resolveIntrinsics(s.json, policy.Properties?.TargetTrackingScalingPolicyConfiguration);
    // The target is the stage's acceptable latency (30 s by default), the one the backlog target comes from.
    expect(deployed).toEqual({
      TargetValue: 30,
      ScaleOutCooldown: 60,
      ScaleInCooldown: 300,
      DisableScaleIn: false,
      CustomizedMetricSpecification: {
        Namespace: "AWS/SQS",
        MetricName: "ApproximateAgeOfOldestMessage",
        Dimensions: [{ Name: "QueueName", Value: "surge-dev-orders" }],
        Statistic: "Maximum",
        Unit: "Seconds",
      },
    });
    const api = new AwsAutoscaler({
      client: new ApplicationAutoScalingClient({ region: "eu-west-1" }),
      cluster: "surge-dev",
      service: "surge-dev-worker",
      queueName: "surge-dev-orders",
      store: { getSetting: async () => undefined, setSetting: async () => {} },
      activities: {} as never,
      defaults: {} as never,
    }).agePolicyInput({
      enabled: true,
      minTasks: 1,
      maxTasks: 50,
      targetBacklogPerTask: 50,
      scaleOutCooldownSeconds: 60,
      scaleInCooldownSeconds: 300,
      targetOldestAgeSeconds: 30,
    });
    expect(api.PolicyName).toBe(AGE_POLICY_NAME);
    expect(pascal(deployed)).toEqual(api.TargetTrackingScalingPolicyConfiguration);
  });

  it("the Lambda processor: subscribed to SNS on the lambda route, reserved concurrency, the orders DLQ, in the VPC", () => {
    const [fnId] = findResource(s.json, "AWS::Lambda::Function", { FunctionName: "surge-dev-order-processor" });
    // Failed events land where the workers' do, the one DLQ the ops plane reads (as on the local stack).
    const [dlqId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders-dlq" });
    s.template.hasResourceProperties("AWS::Lambda::Function", {
      FunctionName: "surge-dev-order-processor",
      Handler: "lambda.snsHandler",
      Runtime: "nodejs24.x",
      MemorySize: 512,
      Timeout: 16,
      ReservedConcurrentExecutions: 5,
      DeadLetterConfig: { TargetArn: { "Fn::GetAtt": [dlqId, "Arn"] } },
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
    s.template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 2,
    });
    s.template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "lambda",
      Endpoint: { "Fn::GetAtt": [fnId, "Arn"] },
      FilterPolicy: FILTER_POLICIES.lambda,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] } },
    });
    // No queue of the Lambda's own: only the orders queue and its DLQ.
    const queueNames = resourcesOfType(s.json, "AWS::SQS::Queue").map(([, r]) => r.Properties?.QueueName);
    expect(queueNames.sort()).toEqual(["surge-dev-orders", "surge-dev-orders-dlq"]);
  });

  it("a Logs Insights query for init durations is saved against the function's log group", () => {
    const [logGroupId] = findResource(s.json, "AWS::Logs::LogGroup", {
      LogGroupName: "/aws/lambda/surge-dev-order-processor",
    });
    s.template.hasResourceProperties("AWS::Logs::QueryDefinition", {
      Name: "surge-dev/lambda-init-durations",
      QueryString: INIT_DURATION_QUERY,
      LogGroupNames: [{ Ref: logGroupId }],
    });
    expect(INIT_DURATION_QUERY).toMatch(/filter @type = "REPORT"/);
    for (const p of [50, 95, 99]) expect(INIT_DURATION_QUERY).toContain(`pct(@initDuration, ${p})`);
    expect(INIT_DURATION_QUERY).toContain("by bin(5m)");
  });

  it("alarms on the oldest order's age and on dead letters (the workers' and the Lambda's), notifying the alarm topic", () => {
    const [topicId] = findResource(s.json, "AWS::SNS::Topic", { TopicName: "surge-dev-alarms" });
    const [queueId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders" });
    const [dlqId] = findResource(s.json, "AWS::SQS::Queue", { QueueName: "surge-dev-orders-dlq" });
    s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateAgeOfOldestMessage",
      Namespace: "AWS/SQS",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [queueId, "QueueName"] } }],
      Statistic: "Maximum",
      Threshold: 30,
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
    s.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmActions: [{ Ref: topicId }],
    });
    s.template.resourceCountIs("AWS::CloudWatch::Alarm", 2);
    // One dead-letter alarm, on the orders DLQ: the Lambda's failures land there too.
    const depthAlarms = resourcesOfType(s.json, "AWS::CloudWatch::Alarm").filter(
      ([, r]) => r.Properties?.MetricName === "ApproximateNumberOfMessagesVisible",
    );
    expect(depthAlarms.map(([, r]) => [r.Properties?.AlarmName, r.Properties?.Dimensions])).toEqual([
      ["surge-dev-dead-letters", [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }]],
    ]);
  });

  it("outputs what the console and operators need", () => {
    for (const name of ["ApiUrl", "OpsTokenSecretArn", "ClusterName", "WorkerServiceName", "LambdaFunctionName"]) {
      s.template.hasOutput(name, Match.anyValue());
    }
  });

  it("no console resources when web is off", () => {
    expect(resourcesOfType(s.json, "AWS::ECS::Service")).toHaveLength(2);
    s.template.resourceCountIs("AWS::ServiceDiscovery::PrivateDnsNamespace", 0);
  });
});

describe("the prod stage with the console and HTTPS (context-driven)", () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(
      {
        stage: "prod",
        certificateArn: CERTIFICATE,
        workerMinTasks: "2",
        workerMaxTasks: "40",
        ingressCidr: "203.0.113.0/24",
      },
      { web: true },
    );
  });

  it("min and max tasks come from context", () => {
    s.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
      MinCapacity: 2,
      MaxCapacity: 40,
    });
    s.template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      Family: "surge-prod-api",
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: "MAX_WORKER_TASKS", Value: "40" },
            { Name: "AUTOSCALING_MIN_TASKS", Value: "2" },
          ]),
        }),
      ],
    });
  });

  it("HTTPS with the certificate, HTTP redirected, API paths to the API and everything else to the console", () => {
    const [apiTargets] = findResource(s.json, "AWS::ElasticLoadBalancingV2::TargetGroup", { Port: 8080 });
    const [webTargets] = findResource(s.json, "AWS::ElasticLoadBalancingV2::TargetGroup", { Port: 3000 });
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 443,
      Protocol: "HTTPS",
      Certificates: [{ CertificateArn: CERTIFICATE }],
      DefaultActions: [{ Type: "forward", TargetGroupArn: { Ref: webTargets } }],
    });
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: "redirect", RedirectConfig: Match.objectLike({ Protocol: "HTTPS" }) })],
    });
    s.template.hasResourceProperties("AWS::ElasticLoadBalancingV2::ListenerRule", {
      Priority: 10,
      Conditions: [{ Field: "path-pattern", PathPatternConfig: { Values: [...API_PATHS] } }],
      Actions: [{ Type: "forward", TargetGroupArn: { Ref: apiTargets } }],
    });
  });

  it("only the allowed CIDR reaches the load balancer, plus the NAT gateways the API's bursts leave through", () => {
    const [albGroup] = findResource(s.json, "AWS::EC2::SecurityGroup", {
      GroupDescription: "Surge load balancer",
    });
    const [, group] = findResource(s.json, "AWS::EC2::SecurityGroup", { GroupDescription: "Surge load balancer" });
    const inline = (group.Properties?.SecurityGroupIngress as Array<Record<string, unknown>> | undefined) ?? [];
    const separate = resourcesOfType(s.json, "AWS::EC2::SecurityGroupIngress")
      .map(([, r]) => r.Properties ?? {})
      .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ "Fn::GetAtt": [albGroup, "GroupId"] }));
    const sources = [...inline, ...separate].map((r) => r.CidrIp);
    expect(sources).not.toContain("0.0.0.0/0");
    expect(sources.filter((c) => c === "203.0.113.0/24")).toHaveLength(2);
    const eips = resourcesOfType(s.json, "AWS::EC2::EIP").map(([id]) => id);
    expect(eips).toHaveLength(2);
    for (const eip of eips) {
      expect(sources).toContainEqual({ "Fn::Join": ["", [{ "Fn::GetAtt": [eip, "PublicIp"] }, "/32"]] });
    }
  });

  it("the console runs as its own service, finding the API by private DNS", () => {
    s.template.hasResourceProperties("AWS::ServiceDiscovery::PrivateDnsNamespace", { Name: "surge-prod.internal" });
    s.template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      Family: "surge-prod-web",
      ContainerDefinitions: [
        Match.objectLike({
          Name: "web",
          PortMappings: [Match.objectLike({ ContainerPort: 3000 })],
          Environment: Match.arrayWith([
            { Name: "SURGE_API_URL", Value: "http://api.surge-prod.internal:8080" },
            { Name: "COOKIE_SECURE", Value: "true" },
          ]),
        }),
      ],
    });
  });

  it("the prod database survives a stack deletion and an AZ", () => {
    s.template.hasResourceProperties("AWS::RDS::DBInstance", { MultiAZ: true, DeletionProtection: true });
    s.template.hasResource("AWS::RDS::DBInstance", { DeletionPolicy: "Snapshot", UpdateReplacePolicy: "Snapshot" });
    // The snapshot restores with the master password: its secret, and the URL built on it, stay too.
    for (const name of ["surge/prod/database-master", "surge/prod/database-url"]) {
      s.template.hasResource("AWS::SecretsManager::Secret", {
        Properties: Match.objectLike({ Name: name }),
        DeletionPolicy: "Retain",
      });
    }
    s.template.resourceCountIs("AWS::EC2::NatGateway", 2);
  });
});
