package io.sallyport.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The launch template's user data as an instance would receive it: the {@code Fn::Sub} rendered
 * with example values, read as cloud-config, and the boot script and the sallyport.yaml it writes
 * taken out of it.
 */
final class FleetUserData {
    /** Example values for every {@code ${...}} the user data names; parameters with a default get their default. */
    static final Map<String, String> EXAMPLE = Map.ofEntries(
            Map.entry("AWS::Region", "eu-west-1"),
            Map.entry("AWS::StackName", "bastions"),
            Map.entry("HostIdentitySecretArn", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sallyport/host-AbCdEf"),
            Map.entry("PolicyParameterName", "/sallyport/policy"),
            Map.entry("IamRefresh", "10m"),
            Map.entry("IamMaxStaleness", "30m"),
            Map.entry("IamPathPrefix", "/"),
            Map.entry("IamAllowGroup", "bastion-users"),
            Map.entry("AuditLogGroup", "/sallyport/audit"));
    static final String EXAMPLE_TRUSTED_SOURCES = "10.0.0.0/24, 10.0.1.0/24";
    static final String EXAMPLE_PRIVATE_IP = "10.0.16.7";

    private static final Pattern SUBSTITUTION = Pattern.compile("\\$\\{([^}]*)}");

    private final String cloudConfig;

    private FleetUserData(String cloudConfig) {
        this.cloudConfig = cloudConfig;
    }

    static FleetUserData of(CloudFormationTemplate template) {
        JsonNode userData = template.resource("LaunchTemplate").properties().path("LaunchTemplateData").path("UserData");
        JsonNode sub = userData.path("Fn::Base64").path("Fn::Sub");
        if (!sub.isArray() || !sub.path(0).isTextual()) {
            throw new AssertionError("UserData is not Fn::Base64 of Fn::Sub [text, variables]: " + userData);
        }
        Map<String, String> values = new java.util.HashMap<>(EXAMPLE);
        // A parameter's default is what a stack created without it gets: render that.
        template.root().path("Parameters").fields().forEachRemaining(p -> {
            if (p.getValue().has("Default") && values.containsKey(p.getKey())) {
                values.put(p.getKey(), p.getValue().path("Default").asText());
            }
        });
        sub.path(1).fieldNames().forEachRemaining(name -> values.put(name, name.equals("TrustedSources")
                ? EXAMPLE_TRUSTED_SOURCES : "?" + name));
        Matcher m = SUBSTITUTION.matcher(sub.path(0).asText());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = name.startsWith("!") ? "${" + name.substring(1) + "}" : values.get(name);
            if (value == null) {
                throw new AssertionError("UserData substitutes ${" + name + "}, which has no example value here");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return new FleetUserData(out.toString());
    }

    String cloudConfig() {
        return cloudConfig;
    }

    /** The bash script of cloud-init's {@code bootcmd: [[/bin/bash, -c, SCRIPT]]}. */
    String bootScript() {
        Map<String, Object> config = new Yaml(new LoaderOptions()).load(cloudConfig);
        Object bootcmd = config.get("bootcmd");
        if (!(bootcmd instanceof List<?> commands) || commands.size() != 1 || !(commands.get(0) instanceof List<?> argv)
                || argv.size() != 3 || !"/bin/bash".equals(argv.get(0)) || !"-c".equals(argv.get(1))) {
            throw new AssertionError("expected bootcmd: [[/bin/bash, -c, SCRIPT]] in\n" + cloudConfig);
        }
        return (String) argv.get(2);
    }

    /** The sallyport.yaml the boot script writes, with the instance's private address filled in. */
    String generatedConfig() {
        String script = bootScript();
        String start = "cat > \"$work/sallyport.yaml\" <<EOF\n";
        int from = script.indexOf(start);
        int to = script.indexOf("\nEOF\n", from);
        if (from < 0 || to < 0) {
            throw new AssertionError("the boot script writes no sallyport.yaml here-document");
        }
        return script.substring(from + start.length(), to + 1).replace("$ip", EXAMPLE_PRIVATE_IP);
    }
}
