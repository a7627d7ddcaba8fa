import { CfnOutput, Duration, SecretValue, Stack, type StackProps, Tags } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import { PipelineAlarms } from "./alarms.js";
import type { StageConfig } from "./config.js";
import { OrderDatabase } from "./database.js";
import {
  API_PORT,
  apiEnvironment,
  apiEnvSchema,
  lambdaEnvironment,
  lambdaEnvSchema,
  WEB_PORT,
  WORKER_CONTAINER_NAME,
  WORKER_METRICS_PORT,
  webEnvironment,
  webEnvSchema,
  workerEnvironment,
  workerEnvSchema,
} from "./environments.js";
import { LambdaProcessor } from "./lambda-processor.js";
import { OrdersMessaging } from "./messaging.js";
import { Network } from "./network.js";
import { grantApiAccess, grantWorkerQueueAccess } from "./permissions.js";
import { assertServiceEnv, definedEntries } from "./service-env.js";
import { FargateApp } from "./services.js";
import {
  lambdaTimeoutSeconds,
  targetBacklogPerTask,
  visibilityTimeoutSeconds,
  workerStopTimeoutSeconds,
} from "./sizing.js";
import { WorkerAutoscaling } from "./worker-autoscaling.js";

/**
 * Paths of the API the load balancer forwards to the API when the console owns
 * everything else. `/metrics` is never forwarded: it is for scrapers inside the VPC.
 */
export const API_PATHS = ["/orders", "/orders/*", "/ops", "/ops/*", "/health"] as const;

interface SurgeStackProps extends StackProps {
  config: StageConfig;
  /** The repository root: every image is a target of its Dockerfile, built with the root as context. */
  repoRoot: string;
  /** Directory of the prebuilt Lambda bundle (worker/dist). */
  lambdaBundleDir: string;
  /** Deploy the console (resolved by the app from the `web` context and whether web/ exists). */
  web: boolean;
}

/**
 * Surge on AWS, one stack per stage: the same API and worker images as the local
 * stack, on real SNS, SQS, ECS Fargate, Lambda, Application Auto Scaling,
 * RDS PostgreSQL and CloudWatch.
 */
export class SurgeStack extends Stack {
  readonly messaging: OrdersMessaging;
  readonly database: OrderDatabase;
  readonly cluster: ecs.Cluster;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly api: FargateApp;
  readonly worker: FargateApp;
  readonly web: FargateApp | undefined;
  readonly autoscaling: WorkerAutoscaling;
  readonly processor: LambdaProcessor;
  readonly alarms: PipelineAlarms;
  readonly opsToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SurgeStackProps) {
    super(scope, id, props);
    const c = props.config;
    const prefix = `surge-${c.stage}`;
    Tags.of(this).add("surge:app", "surge");
    Tags.of(this).add("surge:stage", c.stage);

    const network = new Network(this, "Network", { cidr: c.vpcCidr, natGateways: c.natGateways });
    const vpc = network.vpc;
    const visibilitySeconds = visibilityTimeoutSeconds(c);
    const backlogTarget = targetBacklogPerTask(c);

    this.messaging = new OrdersMessaging(this, "Orders", {
      stage: c.stage,
      visibilityTimeoutSeconds: visibilitySeconds,
      maxReceiveCount: c.maxReceiveCount,
      retentionDays: c.queueRetentionDays,
    });
    const { topic, queue, deadLetterQueue } = this.messaging;

    this.database = new OrderDatabase(this, "Store", {
      stage: c.stage,
      vpc,
      subnets: network.dataSubnets,
      instanceClass: c.dbInstanceClass,
      allocatedStorageGiB: c.dbAllocatedStorageGiB,
      multiAz: c.dbMultiAz,
      backupRetentionDays: c.dbBackupRetentionDays,
      retain: c.removalPolicy === "retain",
    });
    const databaseUrl = ecs.Secret.fromSecretsManager(this.database.urlSecret);

    this.opsToken = new secretsmanager.Secret(this, "OpsToken", {
      secretName: `surge/${c.stage}/ops-token`,
      description: "Bearer token of the Surge ops API (/ops/*) and the console",
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    const opsToken = ecs.Secret.fromSecretsManager(this.opsToken);

    this.cluster = new ecs.Cluster(this, "Cluster", {
      clusterName: prefix,
      vpc,
      // RunningTaskCount, the denominator of backlog per task, is a Container Insights metric.
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    // The console's server finds the API by name (api.<namespace>) without going out through NAT.
    if (props.web) this.cluster.addDefaultCloudMapNamespace({ name: `${prefix}.internal`, vpc });

    // Security groups: nothing reaches a task except through the load balancer; tasks reach
    // AWS APIs over HTTPS (through NAT) and PostgreSQL, nothing else.
    const albSecurityGroup = this.#securityGroup("LoadBalancerSecurityGroup", vpc, "Surge load balancer");
    const apiSecurityGroup = this.#taskSecurityGroup("ApiSecurityGroup", vpc, "Surge API tasks");
    const workerSecurityGroup = this.#taskSecurityGroup("WorkerSecurityGroup", vpc, "Surge worker tasks");
    const lambdaSecurityGroup = this.#taskSecurityGroup("LambdaSecurityGroup", vpc, "Surge Lambda order processor");
    for (const [group, who] of [
      [apiSecurityGroup, "the API"],
      [workerSecurityGroup, "the workers"],
      [lambdaSecurityGroup, "the Lambda"],
    ] as const) {
      this.database.instance.connections.allowDefaultPortFrom(group, `PostgreSQL from ${who}`);
    }

    const https = c.certificateArn !== undefined;
    const listenerPort = https ? 443 : 80;
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, "LoadBalancer", {
      loadBalancerName: prefix,
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
      // Below the API's keep-alive (65 s), so the load balancer, not the API, closes idle connections.
      idleTimeout: Duration.seconds(60),
    });
    const publicUrl = `${https ? "https" : "http"}://${this.loadBalancer.loadBalancerDnsName}`;
    for (const port of https ? [80, 443] : [80]) {
      albSecurityGroup.addIngressRule(
        ec2.Peer.ipv4(c.ingressCidr),
        ec2.Port.tcp(port),
        `HTTP(S) from ${c.ingressCidr}`,
      );
    }
    // The API fires load bursts at its own public URL; that traffic leaves through NAT.
    apiSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(listenerPort), "load bursts to the load balancer");
    if (c.ingressCidr !== "0.0.0.0/0") {
      for (const ip of natPublicIps(vpc)) {
        albSecurityGroup.addIngressRule(ec2.Peer.ipv4(`${ip}/32`), ec2.Port.tcp(listenerPort), "load bursts via NAT");
      }
    }

    const wiring = {
      config: c,
      topicName: topic.topicName,
      topicArn: topic.topicArn,
      queueName: queue.queueName,
      deadLetterQueueName: deadLetterQueue.queueName,
      visibilityTimeoutSeconds: visibilitySeconds,
      databaseUrl,
    };
    const repoImage = (target: string, exclude: string[]) => ({ repoRoot: props.repoRoot, target, exclude });

    // The worker fleet. No desired count in the template: autoscaling and the ops plane own it,
    // and a redeploy must not reset a fleet that is draining a flash sale.
    const workerEnv = workerEnvironment(wiring);
    assertServiceEnv("worker", workerEnvSchema, workerEnv);
    this.worker = new FargateApp(this, "Worker", {
      config: c,
      cluster: this.cluster,
      subnets: network.taskSubnets,
      securityGroup: workerSecurityGroup,
      name: `${prefix}-worker`,
      containerName: WORKER_CONTAINER_NAME,
      image: repoImage("worker", ["api/src", "web/*", "!web/package.json"]),
      port: WORKER_METRICS_PORT,
      environment: workerEnv.environment,
      secrets: workerEnv.secrets,
      stopTimeoutSeconds: workerStopTimeoutSeconds(c),
      healthCheckCommand: [
        "CMD",
        "node",
        "-e",
        `fetch('http://127.0.0.1:${WORKER_METRICS_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
      ],
    });
    grantWorkerQueueAccess(this.worker.taskDefinition.taskRole, queue, deadLetterQueue);

    this.autoscaling = new WorkerAutoscaling(this, "WorkerAutoscaling", {
      clusterName: this.cluster.clusterName,
      serviceName: this.worker.service.serviceName,
      queueName: queue.queueName,
      minTasks: c.workerMinTasks,
      maxTasks: c.workerMaxTasks,
      targetBacklogPerTask: backlogTarget,
      // The latency the backlog target is derived from, tracked directly too: it catches old orders
      // a short backlog hides (tasks starting, or slow).
      targetOldestAgeSeconds: c.acceptableLatencySeconds,
      scaleOutCooldownSeconds: c.scaleOutCooldownSeconds,
      scaleInCooldownSeconds: c.scaleInCooldownSeconds,
      tagValue: `${prefix}-worker`,
    });
    this.autoscaling.target.node.addDependency(this.worker.service);

    const lambdaTimeout = lambdaTimeoutSeconds(c);
    const lambdaEnv = lambdaEnvironment({
      config: c,
      // Lambda has no secret injection: CloudFormation resolves the URL secret into the
      // function's configuration at deploy time (docs/deploy-aws.md, "Security", weighs the trade-off).
      databaseUrlValue: SecretValue.secretsManager(this.database.urlSecret.secretArn).unsafeUnwrap(),
      timeoutSeconds: lambdaTimeout,
    });
    assertServiceEnv("lambda", lambdaEnvSchema, lambdaEnv);
    this.processor = new LambdaProcessor(this, "LambdaProcessor", {
      config: c,
      bundleDir: props.lambdaBundleDir,
      topic,
      vpc,
      subnets: network.taskSubnets,
      securityGroup: lambdaSecurityGroup,
      environment: { ...definedEntries(lambdaEnv.environment), ...lambdaEnv.runtime },
      timeoutSeconds: lambdaTimeout,
      // The orders DLQ, as locally: the ops plane's sweep and redrive read only that queue.
      deadLetterQueue,
    });

    // The API and ops plane.
    const apiEnv = apiEnvironment({
      ...wiring,
      opsToken,
      publicBaseUrl: publicUrl,
      clusterName: this.cluster.clusterName,
      workerServiceName: this.worker.service.serviceName,
      targetBacklogPerTask: backlogTarget,
      lambdaFunctionName: this.processor.function.functionName,
      lambdaLogGroupName: this.processor.logGroup.logGroupName,
    });
    assertServiceEnv("api", apiEnvSchema, apiEnv);
    this.api = new FargateApp(this, "Api", {
      config: c,
      cluster: this.cluster,
      subnets: network.taskSubnets,
      securityGroup: apiSecurityGroup,
      name: `${prefix}-api`,
      containerName: "api",
      image: repoImage("api", ["worker/src", "web/*", "!web/package.json"]),
      port: API_PORT,
      environment: apiEnv.environment,
      secrets: apiEnv.secrets,
      stopTimeoutSeconds: 30,
      desiredCount: c.apiDesiredCount,
      healthCheckGracePeriodSeconds: 60,
      ...(props.web && { cloudMapName: "api" }),
    });
    grantApiAccess(this, this.api.taskDefinition.taskRole, {
      topic,
      queue,
      deadLetterQueue,
      clusterName: this.cluster.clusterName,
      workerServiceArn: this.worker.service.serviceArn,
      workerTaskDefinitionFamily: this.worker.taskDefinition.family,
      workerRoles: [this.worker.taskDefinition.taskRole, this.worker.taskDefinition.obtainExecutionRole()],
      scalableTargetTagValue: `${prefix}-worker`,
      lambdaLogGroup: this.processor.logGroup,
    });

    const apiTargets = new elbv2.ApplicationTargetGroup(this, "ApiTargets", {
      vpc,
      port: API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [this.api.service.loadBalancerTarget({ containerName: "api", containerPort: API_PORT })],
      // GET /health answers 200 only when the store and the queue answer.
      healthCheck: {
        path: "/health",
        healthyHttpCodes: "200",
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      // Long enough for in-flight requests; the API stops accepting on SIGTERM.
      deregistrationDelay: Duration.seconds(15),
    });

    let webTargets: elbv2.ApplicationTargetGroup | undefined;
    if (props.web) {
      const webSecurityGroup = this.#taskSecurityGroup("WebSecurityGroup", vpc, "Surge console tasks");
      this.api.service.connections.allowFrom(
        webSecurityGroup,
        ec2.Port.tcp(API_PORT),
        "the console's server calls the API",
      );
      const sessionSecret = new secretsmanager.Secret(this, "ConsoleSessionSecret", {
        secretName: `surge/${c.stage}/console-session`,
        description: "Key material of the console's session cookies (SESSION_SECRET)",
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
      });
      const webEnv = webEnvironment({
        apiUrl: `http://api.${prefix}.internal:${API_PORT}`,
        publicUrl,
        https,
        opsToken,
        sessionSecret: ecs.Secret.fromSecretsManager(sessionSecret),
      });
      assertServiceEnv("web", webEnvSchema, webEnv);
      this.web = new FargateApp(this, "Web", {
        config: c,
        cluster: this.cluster,
        subnets: network.taskSubnets,
        securityGroup: webSecurityGroup,
        name: `${prefix}-web`,
        containerName: "web",
        image: repoImage("web", []),
        port: WEB_PORT,
        environment: webEnv.environment,
        secrets: webEnv.secrets,
        stopTimeoutSeconds: 30,
        desiredCount: c.webDesiredCount,
        healthCheckGracePeriodSeconds: 60,
        writableRootFilesystem: true,
      });
      webTargets = new elbv2.ApplicationTargetGroup(this, "WebTargets", {
        vpc,
        port: WEB_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        targets: [this.web.service.loadBalancerTarget({ containerName: "web", containerPort: WEB_PORT })],
        healthCheck: { path: "/", healthyHttpCodes: "200-399", interval: Duration.seconds(15) },
        deregistrationDelay: Duration.seconds(15),
      });
    }

    const listener = this.loadBalancer.addListener(https ? "Https" : "Http", {
      port: listenerPort,
      open: false,
      ...(https && {
        certificates: [elbv2.ListenerCertificate.fromArn(c.certificateArn ?? "")],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      }),
      defaultAction: elbv2.ListenerAction.forward([webTargets ?? apiTargets]),
    });
    if (https) {
      this.loadBalancer.addListener("HttpRedirect", {
        port: 80,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: "HTTPS", port: "443", permanent: true }),
      });
    }
    listener.addAction("HideMetrics", {
      priority: 1,
      conditions: [elbv2.ListenerCondition.pathPatterns(["/metrics", "/metrics/*"])],
      action: elbv2.ListenerAction.fixedResponse(404, { contentType: "text/plain", messageBody: "not found" }),
    });
    if (webTargets) {
      listener.addAction("Api", {
        priority: 10,
        conditions: [elbv2.ListenerCondition.pathPatterns([...API_PATHS])],
        action: elbv2.ListenerAction.forward([apiTargets]),
      });
    }

    this.alarms = new PipelineAlarms(this, "Alarms", {
      stage: c.stage,
      queue,
      deadLetterQueue,
      oldestMessageAlarmSeconds: c.oldestMessageAlarmSeconds,
      dlqDepthAlarmMessages: c.dlqDepthAlarmMessages,
      alarmEmail: c.alarmEmail,
    });

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description, exportName: `${prefix}-${id}` });
    output("ApiUrl", publicUrl, "The order API (POST /orders/async, /ops/*): point the console and bursts here");
    output("ConsoleUrl", props.web ? publicUrl : "(console not deployed)", "The ops console");
    output("OpsTokenSecretArn", this.opsToken.secretArn, "aws secretsmanager get-secret-value --secret-id <this>");
    output("OrdersTopicArn", topic.topicArn, "ORDERS_TOPIC_ARN");
    output("OrdersQueueUrl", queue.queueUrl, "The orders queue");
    output("DeadLetterQueueUrl", deadLetterQueue.queueUrl, "The orders dead-letter queue");
    output("ClusterName", this.cluster.clusterName, "ECS_CLUSTER");
    output("WorkerServiceName", this.worker.service.serviceName, "ECS_SERVICE");
    output("LambdaFunctionName", this.processor.function.functionName, "The Lambda order processor");
    output("LambdaLogGroupName", this.processor.logGroup.logGroupName, "Its REPORT lines (Logs Insights)");
    output("InitDurationQueryName", `${prefix}/lambda-init-durations`, "Saved Logs Insights query");
    output("AlarmTopicArn", this.alarms.topic.topicArn, "Subscribe a pager or email to the alarms");
    output("DatabaseUrlSecretArn", this.database.urlSecret.secretArn, "DATABASE_URL (for a one-off psql)");
  }

  #securityGroup(id: string, vpc: ec2.IVpc, description: string): ec2.SecurityGroup {
    return new ec2.SecurityGroup(this, id, { vpc, description, allowAllOutbound: false });
  }

  /** A task's group: HTTPS out (AWS APIs through NAT); PostgreSQL is added by the database's connections. */
  #taskSecurityGroup(id: string, vpc: ec2.IVpc, description: string): ec2.SecurityGroup {
    const group = this.#securityGroup(id, vpc, description);
    group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "AWS APIs over HTTPS");
    return group;
  }
}

/** The NAT gateways' Elastic IPs: where the tasks' traffic to the internet (and to the ALB) comes from. */
function natPublicIps(vpc: ec2.Vpc): string[] {
  return vpc.publicSubnets.flatMap((subnet) => {
    const eip = subnet.node.tryFindChild("EIP");
    return eip instanceof ec2.CfnEIP ? [eip.attrPublicIp] : [];
  });
}
