import { Duration, RemovalPolicy, Size } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { StageConfig } from "./config.js";
import { definedEntries } from "./service-env.js";

/** How a service's image is built: one target of the repository's root Dockerfile, the root as context. */
interface RepoImage {
  repoRoot: string;
  /** The Dockerfile's stage to build (`docker build --target`). */
  target: string;
  /**
   * Paths left out of this image's build context on top of .dockerignore:
   * the other deployables' sources, so editing one service does not give the
   * others a new image (and a rolling deployment) on the next `cdk deploy`.
   */
  exclude: string[];
}

interface FargateAppProps {
  config: StageConfig;
  cluster: ecs.ICluster;
  subnets: ec2.SubnetSelection;
  securityGroup: ec2.ISecurityGroup;
  /** `surge-<stage>-<name>`: the task definition family, the service and the log group are named after it. */
  name: string;
  containerName: string;
  image: RepoImage;
  port: number;
  environment: Partial<Record<string, string>>;
  secrets: Partial<Record<string, ecs.Secret>>;
  /** Seconds between SIGTERM and SIGKILL. */
  stopTimeoutSeconds: number;
  /** A container-level health check command (ECS ignores the Dockerfile's HEALTHCHECK). */
  healthCheckCommand?: string[];
  /** Omit for services whose desired count someone else owns (the worker: autoscaling and the ops plane). */
  desiredCount?: number;
  /** Whether the app may write to its root filesystem (Next.js caches on disk; the API and worker never write). */
  writableRootFilesystem?: boolean;
  healthCheckGracePeriodSeconds?: number;
  /** Registers the tasks in the cluster's private DNS namespace under this name (`<name>.<namespace>`). */
  cloudMapName?: string;
}

/**
 * One Fargate service built from a target of this repository's Dockerfile: task
 * definition (CPU, memory and architecture from the stage), its log group,
 * a container that is stopped gracefully, and a service that rolls out with
 * a circuit breaker and rolls back on its own when new tasks do not get healthy.
 */
export class FargateApp extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FargateAppProps) {
    super(scope, id);
    const arm = props.config.cpuArchitecture === "arm64";
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      family: props.name,
      cpu: props.config.taskCpu,
      memoryLimitMiB: props.config.taskMemoryMiB,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
      },
    });
    this.logGroup = new logs.LogGroup(this, "Logs", {
      logGroupName: `/surge/${props.name}`,
      retention: props.config.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.config.removalPolicy === "retain" ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.container = this.taskDefinition.addContainer(props.containerName, {
      containerName: props.containerName,
      image: ecs.ContainerImage.fromAsset(props.image.repoRoot, {
        target: props.image.target,
        exclude: props.image.exclude,
        platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
      }),
      essential: true,
      environment: definedEntries(props.environment),
      secrets: definedEntries(props.secrets),
      portMappings: [{ containerPort: props.port, name: props.containerName }],
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: props.containerName,
        // A full log buffer must not stall a payment: drop log lines instead (AWS's recommendation).
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout: Duration.seconds(props.stopTimeoutSeconds),
      readonlyRootFilesystem: !props.writableRootFilesystem,
      // An init process as PID 1 forwards SIGTERM to node and reaps zombies.
      linuxParameters: new ecs.LinuxParameters(this, "Linux", { initProcessEnabled: true }),
      ...(props.healthCheckCommand && {
        healthCheck: {
          command: props.healthCheckCommand,
          interval: Duration.seconds(15),
          timeout: Duration.seconds(5),
          retries: 3,
          startPeriod: Duration.seconds(30),
        },
      }),
    });
    this.service = new ecs.FargateService(this, "Service", {
      serviceName: props.name,
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      ...(props.desiredCount !== undefined && { desiredCount: props.desiredCount }),
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
      ...(props.cloudMapName !== undefined && {
        cloudMapOptions: { name: props.cloudMapName, dnsTtl: Duration.seconds(10) },
      }),
      ...(props.healthCheckGracePeriodSeconds !== undefined && {
        healthCheckGracePeriod: Duration.seconds(props.healthCheckGracePeriodSeconds),
      }),
    });
  }
}
