package io.sallyport.deploy;

import static io.sallyport.deploy.CloudFormationTemplate.getAtt;
import static io.sallyport.deploy.CloudFormationTemplate.ref;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import io.sallyport.config.Config;
import io.sallyport.config.ConfigException;
import io.sallyport.config.ConfigLoader;
import io.sallyport.config.ConfigProblem;
import io.sallyport.deploy.CloudFormationTemplate.Resource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The security properties of the fleet's CloudFormation template (deploy/sallyport-fleet.yaml),
 * read from the template itself: who reaches port 22 and the health port, what the instance role
 * may do, how instances talk to the metadata service, how the audit trail is kept. cfn-lint checks
 * that the template is valid CloudFormation ({@link FleetTemplateLintTest}); these check that it
 * is the deployment docs/fleet.md describes.
 */
class FleetTemplateTest {
    static final Path TEMPLATE = Path.of("deploy", "sallyport-fleet.yaml");
    private static final int SSH = 22;
    private static final int HEALTH = 9810;
    /** Actions AWS offers no resource-level permission for: allowed on "*" only under a Condition. */
    private static final Set<String> WRITES_WITHOUT_RESOURCES = Set.of("cloudwatch:PutMetricData");

    private static CloudFormationTemplate template;

    @BeforeAll
    static void read() throws IOException {
        template = CloudFormationTemplate.read(TEMPLATE);
    }

    // ---- network --------------------------------------------------------------------------------

    @Test
    void sshIsAdmittedOnlyFromTheCompanyCidrParameterOrTheLoadBalancer() {
        List<Ingress> ssh = ingress().stream().filter(i -> i.covers(SSH)).toList();

        assertThat(ssh).isNotEmpty().allSatisfy(i -> assertThat(i.fromCompanyCidrs() || i.fromLoadBalancer())
                .as("ingress %s to port 22: only from AllowedClientCidrs or the load balancer's group", i).isTrue());
        assertThat(ssh).filteredOn(Ingress::fromCompanyCidrs)
                .allSatisfy(i -> assertThat(i.groupId()).isEqualTo(ref("LoadBalancerSecurityGroup")))
                .isNotEmpty();
        assertThat(ssh).filteredOn(Ingress::fromLoadBalancer)
                .allSatisfy(i -> assertThat(i.groupId()).isEqualTo(ref("BastionSecurityGroup")))
                .isNotEmpty();
        assertThat(template.parameter("AllowedClientCidrs").has("Default"))
                .as("the company addresses have no default: the operator must give them").isFalse();
    }

    @Test
    void companyCidrParameterRefusesTheWholeInternet() {
        String pattern = template.parameter("AllowedClientCidrs").path("AllowedPattern").asText();

        // CloudFormation applies a CommaDelimitedList's pattern to each element.
        assertThat(Stream.of("203.0.113.0/24", "198.51.100.17/32", "10.0.0.0/8"))
                .allSatisfy(cidr -> assertThat(cidr).matches(pattern));
        assertThat(Stream.of("0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/7", "203.0.113.0", "203.0.113.0/33", "::/0",
                "256.0.0.0/8", "203.0.113.0/24 ", "")).allSatisfy(cidr -> assertThat(cidr).doesNotMatch(pattern));
    }

    @Test
    void noIngressAnywhereIsOpenToTheWholeInternet() {
        assertThat(ingress()).allSatisfy(i -> {
            assertThat(i.rule().path("CidrIp").asText()).as("%s", i).isNotEqualTo("0.0.0.0/0");
            assertThat(i.rule().path("CidrIpv6").asText()).as("%s", i).isNotEqualTo("::/0");
            assertThat(i.rule().path("IpProtocol").asText()).as("%s: one protocol and port range", i).isNotIn("-1", "all");
        });
    }

    @Test
    void healthPortIsAdmittedOnlyFromTheLoadBalancer() {
        List<Ingress> health = ingress().stream().filter(i -> i.covers(HEALTH)).toList();

        assertThat(health).isNotEmpty().allSatisfy(i -> assertThat(i.fromLoadBalancer()).as("%s", i).isTrue());
    }

    @Test
    void loadBalancerIsTheGroupTheCompanyRulesApplyTo() {
        Resource nlb = template.only("AWS::ElasticLoadBalancingV2::LoadBalancer");

        assertThat(nlb.properties().path("Type").asText()).isEqualTo("network");
        assertThat(nlb.properties().path("SecurityGroups")).containsExactly(ref("LoadBalancerSecurityGroup"));
        assertThat(template.ofType("AWS::ElasticLoadBalancingV2::Listener")).singleElement().satisfies(l -> {
            assertThat(l.properties().path("Protocol").asText()).isEqualTo("TCP");
            assertThat(l.properties().path("Port").asInt()).isEqualTo(SSH);
        });
    }

    @Test
    void idleSessionsAreEndedByTheServerBeforeTheLoadBalancerResetsThem() throws ConfigException {
        JsonNode listener = template.only("AWS::ElasticLoadBalancingV2::Listener").properties();
        long serverIdle = ConfigLoader.parse("", Path.of("sallyport.yaml")).policy().idleTimeout().toSeconds();

        assertThat(attribute(listener.path("ListenerAttributes"), "tcp.idle_timeout.seconds").map(Long::parseLong))
                .hasValueSatisfying(seconds -> assertThat(seconds).isGreaterThan(serverIdle));
    }

    @Test
    void targetGroupSendsProxyProtocolV2AndTheClientAddressOnlyInIt() {
        JsonNode tg = template.only("AWS::ElasticLoadBalancingV2::TargetGroup").properties();

        assertThat(attribute(tg.path("TargetGroupAttributes"), "proxy_protocol_v2.enabled")).contains("true");
        // The TCP peer must be the load balancer (trusted_sources), never the client itself.
        assertThat(attribute(tg.path("TargetGroupAttributes"), "preserve_client_ip.enabled")).contains("false");
        assertThat(tg.path("Protocol").asText()).isEqualTo("TCP");
        assertThat(tg.path("Port").asInt()).isEqualTo(SSH);
    }

    @Test
    void healthCheckAsksHealthzOnTheMetricsListenerNeverPort22() {
        JsonNode tg = template.only("AWS::ElasticLoadBalancingV2::TargetGroup").properties();

        assertThat(tg.path("HealthCheckProtocol").asText()).isEqualTo("HTTP");
        assertThat(tg.path("HealthCheckPath").asText()).isEqualTo("/healthz");
        assertThat(tg.path("HealthCheckPort").asText()).isEqualTo(String.valueOf(HEALTH));
        assertThat(FleetUserData.of(template).generatedConfig())
                .contains("metrics_listen: " + FleetUserData.EXAMPLE_PRIVATE_IP + ":" + HEALTH);
    }

    @Test
    void autoScalingGroupReplacesInstancesThatFailTheHealthCheck() {
        JsonNode asg = template.only("AWS::AutoScaling::AutoScalingGroup").properties();

        assertThat(asg.path("HealthCheckType").asText()).isEqualTo("ELB");
        assertThat(asg.path("TargetGroupARNs")).containsExactly(ref("TargetGroup"));
        assertThat(asg.path("LaunchTemplate").path("LaunchTemplateId")).isEqualTo(ref("LaunchTemplate"));
        assertThat(template.resource("LaunchTemplate").properties().path("LaunchTemplateData").path("ImageId"))
                .isEqualTo(ref("AmiId"));
    }

    // ---- instances ------------------------------------------------------------------------------

    @Test
    void instancesRequireImdsV2WithAHopLimitOfOne() {
        JsonNode metadata = template.resource("LaunchTemplate").properties().path("LaunchTemplateData").path("MetadataOptions");

        assertThat(metadata.path("HttpTokens").asText()).isEqualTo("required");
        assertThat(metadata.path("HttpPutResponseHopLimit").asInt()).isEqualTo(1);
    }

    @Test
    void everyVolumeIsEncrypted() {
        JsonNode mappings = template.resource("LaunchTemplate").properties().path("LaunchTemplateData").path("BlockDeviceMappings");

        assertThat(mappings).isNotEmpty().allSatisfy(m -> assertThat(m.path("Ebs").path("Encrypted").asBoolean())
                .as("%s", m).isTrue());
    }

    @Test
    void hostIdentityIsWrittenForTheSallyportUserOnlyBeforeTheServiceStarts() {
        String script = FleetUserData.of(template).bootScript();

        // bootcmd runs in cloud-init.service, which the AMI orders sallyport.service after.
        assertThat(script).contains("secretsmanager get-secret-value --secret-id '"
                + FleetUserData.EXAMPLE.get("HostIdentitySecretArn") + "'");
        assertThat(script).contains("install -o sallyport -g sallyport -m 0600 \"$work/key\" /var/lib/sallyport/ssh_host_ed25519_key\n");
        assertThat(script).contains("install -o sallyport -g sallyport -m 0600 \"$work/cert\" /var/lib/sallyport/ssh_host_ed25519_key-cert.pub\n");
        assertThat(script).startsWith("set -euo pipefail\numask 077\n");
        assertThat(script).doesNotContain("set -x");
    }

    @Test
    void bootScriptRunsBeforeTheServerBecauseTheAmiStartsItAfterCloudInit() throws IOException {
        // bootcmd runs inside cloud-init.service; the AMI build orders sallyport.service after it.
        assertThat(FleetUserData.of(template).cloudConfig()).startsWith("#cloud-config\nbootcmd:\n");
        assertThat(Files.readString(Path.of("ami", "scripts", "install-sallyport.sh")))
                .contains("[Unit]\nAfter=cloud-init.service\n");
    }

    @Test
    void generatedConfigHasNoProblemButFeaturesThisVersionLacks() {
        String config = FleetUserData.of(template).generatedConfig()
                + "policy:\n  roles:\n    admin:\n      allow: [\"10.0.0.0/16:22\"]\n";
        List<ConfigProblem> problems = new ArrayList<>();
        try {
            Config parsed = ConfigLoader.parse(config, Path.of("/etc/sallyport/sallyport.yaml"));
            assertThat(parsed.proxyProtocol().enabled()).isTrue();
        } catch (ConfigException e) {
            problems.addAll(e.problems());
        }

        assertThat(problems).as(config).allSatisfy(p -> assertThat(p.message())
                .endsWith("is not supported by this version of sallyport yet"));
        assertThat(config).contains("proxy_protocol:\n  enabled: true\n  trusted_sources: ["
                + FleetUserData.EXAMPLE_TRUSTED_SOURCES + "]\n");
    }

    @Test
    void bootScriptPassesShellcheck() throws IOException {
        io.sallyport.testing.HostTool shellcheck = io.sallyport.testing.HostTool.require("shellcheck", "shellcheck");
        Path script = Files.createTempFile("sallyport-boot", ".sh");
        try {
            Files.writeString(script, "#!/bin/bash\n" + FleetUserData.of(template).bootScript(), StandardCharsets.UTF_8);
            io.sallyport.testing.HostTool.Result r = shellcheck.run("--severity=style", script.toString());

            assertThat(r.exitCode()).as(r.toString()).isZero();
        } finally {
            Files.deleteIfExists(script);
        }
    }

    // ---- instance role --------------------------------------------------------------------------

    @Test
    void noWriteActionIsAllowedOnEveryResource() {
        assertThat(statements()).isNotEmpty().allSatisfy(s -> {
            if (!s.onEveryResource()) {
                return;
            }
            for (String action : s.actions()) {
                boolean read = Stream.of("Get", "List", "Describe").anyMatch(verb -> verb(action).startsWith(verb));
                boolean confined = WRITES_WITHOUT_RESOURCES.contains(action) && s.statement().has("Condition");
                assertThat(read || confined).as("%s on Resource \"*\" in %s", action, s.where()).isTrue();
            }
        });
    }

    @Test
    void noActionIsAWildcard() {
        assertThat(statements()).allSatisfy(s -> assertThat(s.actions()).as(s.where())
                .allSatisfy(a -> assertThat(a).doesNotContain("*")));
    }

    @Test
    void roleAllowsEveryIamCallTheServerMakesAndNoOther() throws IOException {
        Set<String> apiMethods = new java.util.HashSet<>();
        for (java.lang.reflect.Method m : software.amazon.awssdk.services.iam.IamClient.class.getMethods()) {
            if (m.getParameterCount() == 1 && !m.getName().endsWith("Paginator")) {
                apiMethods.add(m.getName());
            }
        }
        Set<String> calls = new LinkedHashSet<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/io/sallyport"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String source = Files.readString(f);
                if (!source.contains("import software.amazon.awssdk.services.iam.IamClient;")) {
                    continue;
                }
                Matcher m = Pattern.compile("\\.(\\w+)\\(").matcher(source);
                while (m.find()) {
                    if (apiMethods.contains(m.group(1))) {
                        calls.add("iam:" + Character.toUpperCase(m.group(1).charAt(0)) + m.group(1).substring(1));
                    }
                }
            }
        }
        Set<String> allowed = new LinkedHashSet<>();
        statements().forEach(s -> s.actions().stream().filter(a -> a.startsWith("iam:")).forEach(allowed::add));

        assertThat(calls).as("IAM calls in the server's source").isNotEmpty();
        assertThat(allowed).containsExactlyInAnyOrderElementsOf(calls);
    }

    @Test
    void auditWritesReachOnlyTheAuditLogGroup() {
        List<Statement> logs = statements().stream().filter(s -> s.actions().stream().anyMatch(a -> a.startsWith("logs:"))).toList();

        assertThat(logs).singleElement().satisfies(s -> {
            assertThat(s.actions()).containsExactlyInAnyOrder("logs:CreateLogStream", "logs:PutLogEvents");
            assertThat(s.statement().path("Resource")).isNotEmpty().allSatisfy(r -> assertThat(r.path("Fn::Sub").asText())
                    .startsWith("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${AuditLogGroup}:"));
        });
    }

    @Test
    void hostIdentitySecretIsReadableAndNothingElseInSecretsManager() {
        List<Statement> secrets = statements().stream()
                .filter(s -> s.actions().stream().anyMatch(a -> a.startsWith("secretsmanager:"))).toList();

        assertThat(secrets).singleElement().satisfies(s -> {
            assertThat(s.actions()).containsExactly("secretsmanager:GetSecretValue");
            assertThat(s.statement().path("Resource")).isEqualTo(ref("HostIdentitySecretArn"));
        });
    }

    @Test
    void bastionsAreAdministeredThroughSsmNotPort22() {
        JsonNode role = template.only("AWS::IAM::Role").properties();

        assertThat(role.path("ManagedPolicyArns")).singleElement().satisfies(arn -> assertThat(arn.path("Fn::Sub").asText())
                .isEqualTo("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"));
        // No port but 22 (from the NLB) and the health port is open to the instances at all.
        assertThat(ingress()).filteredOn(i -> i.groupId().equals(ref("BastionSecurityGroup")))
                .allSatisfy(i -> assertThat(i.rule().path("FromPort").asInt()).isIn(SSH, HEALTH));
    }

    @Test
    void killDocumentEndsAUsersSessionsWithAValidatedName() {
        JsonNode doc = template.only("AWS::SSM::Document").properties();
        JsonNode content = doc.path("Content");
        String pattern = content.path("parameters").path("user").path("allowedPattern").asText();

        assertThat(doc.path("DocumentType").asText()).isEqualTo("Command");
        assertThat(content.path("mainSteps")).singleElement().satisfies(step -> {
            assertThat(step.path("action").asText()).isEqualTo("aws:runShellScript");
            assertThat(step.path("inputs").path("runCommand")).containsExactly(
                    com.fasterxml.jackson.databind.node.TextNode.valueOf("sallyport kill --user '{{ user }}'"));
        });
        assertThat(pattern).isNotEmpty();
        assertThat(Stream.of("alice", "Alice.Smith@corp.example", "svc-deploy_2"))
                .allSatisfy(name -> assertThat(name).matches(pattern));
        assertThat(Stream.of("", "alice'; reboot; '", "alice bob", "$(id)", "-x", "alice\nbob"))
                .allSatisfy(name -> assertThat(name).doesNotMatch(pattern));
    }

    // ---- audit trail ----------------------------------------------------------------------------

    @Test
    void auditLogGroupIsEncryptedWithAKeyCloudWatchLogsMayUseForItAlone() {
        JsonNode group = template.only("AWS::Logs::LogGroup").properties();
        JsonNode key = template.only("AWS::KMS::Key").properties();

        assertThat(group.path("KmsKeyId")).isEqualTo(getAtt("AuditKey", "Arn"));
        assertThat(group.path("RetentionInDays")).isEqualTo(ref("LogRetentionDays"));
        assertThat(key.path("EnableKeyRotation").asBoolean()).isTrue();
        assertThat(key.path("KeyPolicy").path("Statement")).filteredOn(s -> s.path("Principal").has("Service"))
                .singleElement().satisfies(s -> {
                    assertThat(s.path("Principal").path("Service").path("Fn::Sub").asText()).isEqualTo("logs.${AWS::Region}.amazonaws.com");
                    assertThat(s.path("Condition").path("ArnEquals").path("kms:EncryptionContext:aws:logs:arn").path("Fn::Sub").asText())
                            .endsWith(":log-group:${LogGroupName}");
                });
    }

    @Test
    void auditEventsThatNeedAttentionRaiseAlarms() {
        assertThat(alarmedFilter("{ $.event = \"auth.reject\" }")).isEqualTo("LoginsRefused");
        assertThat(alarmedFilter("($.event = \"forward.reject\") && (($.target.ip = \"169.254.169.254\")"))
                .isEqualTo("MetadataTunnelsRefused");
        assertThat(alarmedFilter("($.event = \"session.terminate\") && ($.reason = \"revoked\")")).isEqualTo("SessionsRevoked");
        assertThat(template.ofType("AWS::CloudWatch::Alarm")).anySatisfy(a -> {
            assertThat(a.properties().path("MetricName").asText()).isEqualTo("AuditOldestUnshippedSeconds");
            assertThat(a.properties().path("TreatMissingData").asText()).isEqualTo("breaching");
        });
        assertThat(FleetUserData.of(template).bootScript()).contains("sallyport_audit_oldest_unshipped_seconds")
                .contains("--metric-name AuditOldestUnshippedSeconds");
    }

    @Test
    void readerTakesShortFormTagsAsTheirLongForms() {
        CloudFormationTemplate t = CloudFormationTemplate.parse("""
                A: !Ref X
                B: !GetAtt Res.Attr.Deep
                C: !Sub "${X}-y"
                D: !If [Cond, !Ref X, !Ref AWS::NoValue]
                E: 22
                """);

        assertThat(t.root().path("A")).isEqualTo(ref("X"));
        assertThat(t.root().path("B")).isEqualTo(getAtt("Res", "Attr.Deep"));
        assertThat(t.root().path("C").path("Fn::Sub").asText()).isEqualTo("${X}-y");
        assertThat(t.root().path("D").path("Fn::If").path(2)).isEqualTo(ref("AWS::NoValue"));
        assertThat(t.root().path("E").isInt()).isTrue();
        assertThatCode(() -> CloudFormationTemplate.parse("A: 1\nA: 2\n")).hasMessageContaining("repeated");
    }

    // --------------------------------------------------------------------------------------------

    /** One ingress rule, inline in a security group or a resource of its own, possibly in a loop. */
    private record Ingress(String where, JsonNode groupId, JsonNode rule, Optional<CloudFormationTemplate.Loop> loop) {
        boolean covers(int port) {
            String protocol = rule.path("IpProtocol").asText();
            if (protocol.equals("-1") || protocol.equals("all")) {
                return true;
            }
            return (protocol.equals("tcp") || protocol.equals("6"))
                    && rule.path("FromPort").asInt() <= port && port <= rule.path("ToPort").asInt();
        }

        boolean fromCompanyCidrs() {
            return loop.isPresent() && loop.get().collection().equals(ref("AllowedClientCidrs"))
                    && rule.path("CidrIp").equals(ref(loop.get().variable()))
                    && !rule.has("CidrIpv6") && !rule.has("SourceSecurityGroupId") && !rule.has("SourcePrefixListId");
        }

        boolean fromLoadBalancer() {
            return rule.path("SourceSecurityGroupId").equals(ref("LoadBalancerSecurityGroup"))
                    && !rule.has("CidrIp") && !rule.has("CidrIpv6") && !rule.has("SourcePrefixListId");
        }

        @Override
        public String toString() {
            return where + " " + rule;
        }
    }

    private static List<Ingress> ingress() {
        List<Ingress> out = new ArrayList<>();
        for (Resource sg : template.ofType("AWS::EC2::SecurityGroup")) {
            sg.properties().path("SecurityGroupIngress")
                    .forEach(rule -> out.add(new Ingress(sg.logicalId(), ref(sg.logicalId()), rule, sg.loop())));
        }
        for (Resource r : template.ofType("AWS::EC2::SecurityGroupIngress")) {
            out.add(new Ingress(r.logicalId(), r.properties().path("GroupId"), r.properties(), r.loop()));
        }
        return out;
    }

    private static Optional<String> attribute(JsonNode attributes, String key) {
        for (JsonNode a : attributes) {
            if (a.path("Key").asText().equals(key)) {
                return Optional.of(a.path("Value").asText());
            }
        }
        return Optional.empty();
    }

    /** An IAM policy statement of the template, with {@code Fn::If} branches taken apart. */
    private record Statement(String where, JsonNode statement) {
        List<String> actions() {
            JsonNode a = statement.path("Action");
            List<String> out = new ArrayList<>();
            if (a.isArray()) {
                a.forEach(x -> out.add(x.asText()));
            } else {
                out.add(a.asText());
            }
            return out;
        }

        boolean onEveryResource() {
            JsonNode r = statement.path("Resource");
            if (r.isArray()) {
                for (JsonNode x : r) {
                    if (x.asText().equals("*")) {
                        return true;
                    }
                }
                return false;
            }
            return r.asText().equals("*");
        }
    }

    private static List<Statement> statements() {
        List<Statement> out = new ArrayList<>();
        for (Resource role : template.ofType("AWS::IAM::Role")) {
            for (JsonNode policy : role.properties().path("Policies")) {
                addStatements(role.logicalId() + "/" + policy.path("PolicyName").asText(), policy.path("PolicyDocument"), out);
            }
        }
        for (Resource p : Stream.concat(template.ofType("AWS::IAM::Policy").stream(),
                template.ofType("AWS::IAM::ManagedPolicy").stream()).toList()) {
            addStatements(p.logicalId(), p.properties().path("PolicyDocument"), out);
        }
        return out;
    }

    private static void addStatements(String where, JsonNode document, List<Statement> out) {
        JsonNode statements = document.path("Statement");
        List<JsonNode> all = new ArrayList<>();
        if (statements.isArray()) {
            statements.forEach(all::add);
        } else {
            all.add(statements);
        }
        for (JsonNode s : all) {
            if (s.has("Fn::If")) {
                for (int branch = 1; branch <= 2; branch++) {
                    JsonNode b = s.path("Fn::If").path(branch);
                    if (!b.equals(ref("AWS::NoValue"))) {
                        out.add(new Statement(where + "/" + b.path("Sid").asText(), b));
                    }
                }
            } else {
                out.add(new Statement(where + "/" + s.path("Sid").asText(), s));
            }
        }
    }

    private static String verb(String action) {
        return action.substring(action.indexOf(':') + 1);
    }

    /** The metric of the filter whose pattern contains {@code pattern}, after checking an alarm watches it. */
    private static String alarmedFilter(String pattern) {
        Resource filter = template.ofType("AWS::Logs::MetricFilter").stream()
                .filter(f -> f.properties().path("FilterPattern").asText().replaceAll("\\s+", " ").contains(pattern))
                .findFirst().orElseThrow(() -> new AssertionError("no metric filter with " + pattern));
        assertThat(filter.properties().path("LogGroupName")).isEqualTo(ref("AuditLogGroup"));
        JsonNode metric = filter.properties().path("MetricTransformations").path(0);
        String name = metric.path("MetricName").asText();
        assertThat(template.ofType("AWS::CloudWatch::Alarm")).as("an alarm on " + name).anySatisfy(a -> {
            assertThat(a.properties().path("MetricName").asText()).isEqualTo(name);
            assertThat(a.properties().path("Namespace").asText()).isEqualTo(metric.path("MetricNamespace").asText());
        });
        return name;
    }
}
