import { Duration, RemovalPolicy, SecretValue } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as rds from "aws-cdk-lib/aws-rds";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

export const DATABASE_USER = "surge";
export const DATABASE_NAME = "surge";
const POSTGRES_PORT = 5432;

/** Everything but letters and digits: the password goes into a URL unescaped, as CloudFormation cannot percent-encode. */
export const PASSWORD_EXCLUDED_CHARACTERS = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/** DATABASE_URL's query string: TLS with the server's certificate and name verified (images trust RDS's CAs). */
export const DATABASE_URL_QUERY = "sslmode=verify-full";

interface OrderDatabaseProps {
  stage: string;
  vpc: ec2.IVpc;
  subnets: ec2.SubnetSelection;
  instanceClass: string;
  allocatedStorageGiB: number;
  multiAz: boolean;
  backupRetentionDays: number;
  retain: boolean;
}

/**
 * The order store: PostgreSQL on RDS. DATABASE_URL is its own secret, assembled at deploy time from a dynamic
 * reference so the password is never in the template (docs/deploy-aws.md, "Security").
 */
export class OrderDatabase extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly masterSecret: secretsmanager.ISecret;
  readonly urlSecret: secretsmanager.Secret;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: OrderDatabaseProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      description: "Surge order store: PostgreSQL from the API, the workers and the Lambda only",
      allowAllOutbound: false,
    });
    const parameters = new rds.ParameterGroup(this, "Parameters", {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      description: "Surge order store",
      parameters: { "rds.force_ssl": "1" },
    });
    const master = new rds.DatabaseSecret(this, "MasterSecret", {
      username: DATABASE_USER,
      secretName: `surge/${props.stage}/database-master`,
      excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS,
    });
    // A retained database keeps the credentials its snapshot restores with.
    master.applyRemovalPolicy(props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
    this.instance = new rds.DatabaseInstance(this, "Postgres", {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      instanceType: new ec2.InstanceType(props.instanceClass),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      port: POSTGRES_PORT,
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromSecret(master),
      parameterGroup: parameters,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      multiAz: props.multiAz,
      allocatedStorage: props.allocatedStorageGiB,
      // Storage grows by itself up to 5× before anyone has to act.
      maxAllocatedStorage: props.allocatedStorageGiB * 5,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetention: Duration.days(props.backupRetentionDays),
      autoMinorVersionUpgrade: true,
      cloudwatchLogsExports: ["postgresql"],
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    // The secret as attached to the instance (host, port and engine added to it).
    if (!this.instance.secret) throw new Error("RDS did not attach the master secret");
    this.masterSecret = this.instance.secret;

    const password = this.masterSecret.secretValueFromJson("password").unsafeUnwrap();
    this.urlSecret = new secretsmanager.Secret(this, "DatabaseUrl", {
      secretName: `surge/${props.stage}/database-url`,
      description: "DATABASE_URL of the Surge services (assembled by CloudFormation from the master secret)",
      secretStringValue: SecretValue.unsafePlainText(
        `postgresql://${DATABASE_USER}:${password}@${this.instance.dbInstanceEndpointAddress}:${this.instance.dbInstanceEndpointPort}/${DATABASE_NAME}?${DATABASE_URL_QUERY}`,
      ),
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  /** Lets `peer` open connections to PostgreSQL (and nothing else). */
  allowFrom(peer: ec2.ISecurityGroup, description: string): void {
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(POSTGRES_PORT), description);
  }
}
