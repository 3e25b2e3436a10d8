package io.sallyport.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A CloudFormation template read as CloudFormation reads it: the short-form tags ({@code !Ref X},
 * {@code !Sub ...}, {@code !GetAtt A.B}, {@code !If [...]}) become their long forms
 * ({@code {"Ref": "X"}}, {@code {"Fn::Sub": ...}}, {@code {"Fn::GetAtt": ["A", "B"]}}), so a test
 * sees a reference as a reference and never mistakes {@code !Ref AllowedClientCidrs} for the
 * string "AllowedClientCidrs".
 */
final class CloudFormationTemplate {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** A resource as written; one inside {@code Fn::ForEach} is listed once, with its loop. */
    record Resource(String logicalId, String type, JsonNode properties, Optional<Loop> loop) {}

    /** {@code Fn::ForEach::Name: [variable, collection, {...}]}. */
    record Loop(String name, String variable, JsonNode collection) {}

    private final JsonNode root;

    private CloudFormationTemplate(JsonNode root) {
        this.root = root;
    }

    static CloudFormationTemplate read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    static CloudFormationTemplate parse(String text) {
        Node node = new Yaml(new LoaderOptions()).compose(new StringReader(text));
        return new CloudFormationTemplate(toJson(node));
    }

    JsonNode root() {
        return root;
    }

    JsonNode parameter(String name) {
        JsonNode p = root.path("Parameters").path(name);
        if (p.isMissingNode()) {
            throw new AssertionError("no parameter " + name);
        }
        return p;
    }

    List<Resource> resources() {
        List<Resource> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("Resources").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith("Fn::ForEach::")) {
                JsonNode loop = e.getValue();
                Loop l = new Loop(e.getKey().substring("Fn::ForEach::".length()), loop.path(0).asText(), loop.path(1));
                for (Iterator<Map.Entry<String, JsonNode>> inner = loop.path(2).fields(); inner.hasNext(); ) {
                    Map.Entry<String, JsonNode> r = inner.next();
                    out.add(new Resource(r.getKey(), r.getValue().path("Type").asText(), r.getValue().path("Properties"), Optional.of(l)));
                }
            } else {
                out.add(new Resource(e.getKey(), e.getValue().path("Type").asText(), e.getValue().path("Properties"), Optional.empty()));
            }
        }
        return out;
    }

    List<Resource> ofType(String type) {
        return resources().stream().filter(r -> r.type().equals(type)).toList();
    }

    Resource resource(String logicalId) {
        return resources().stream().filter(r -> r.logicalId().equals(logicalId)).findFirst()
                .orElseThrow(() -> new AssertionError("no resource " + logicalId));
    }

    /** The only resource of this type. */
    Resource only(String type) {
        List<Resource> all = ofType(type);
        if (all.size() != 1) {
            throw new AssertionError("expected one " + type + ", found " + all.size());
        }
        return all.get(0);
    }

    static JsonNode ref(String name) {
        return JSON.objectNode().put("Ref", name);
    }

    static JsonNode getAtt(String resource, String attribute) {
        ObjectNode n = JSON.objectNode();
        n.putArray("Fn::GetAtt").add(resource).add(attribute);
        return n;
    }

    // --------------------------------------------------------------------------------------------

    private static JsonNode toJson(Node node) {
        JsonNode value;
        if (node instanceof MappingNode m) {
            ObjectNode o = JSON.objectNode();
            for (NodeTuple t : m.getValue()) {
                String key = ((ScalarNode) t.getKeyNode()).getValue();
                if (o.has(key)) {
                    throw new IllegalArgumentException("key " + key + " repeated at " + t.getKeyNode().getStartMark());
                }
                o.set(key, toJson(t.getValueNode()));
            }
            value = o;
        } else if (node instanceof SequenceNode s) {
            ArrayNode a = JSON.arrayNode();
            s.getValue().forEach(item -> a.add(toJson(item)));
            value = a;
        } else if (node instanceof ScalarNode s) {
            value = scalar(s);
        } else {
            throw new IllegalArgumentException("unexpected YAML node " + node.getNodeId() + " at " + node.getStartMark());
        }
        String tag = node.getTag().getValue();
        if (!tag.startsWith("!") || tag.startsWith("!!")) {
            return value;
        }
        String name = tag.substring(1);
        ObjectNode wrapped = JSON.objectNode();
        if (name.equals("Ref") || name.equals("Condition")) {
            wrapped.set(name, value);
        } else if (name.equals("GetAtt") && value.isTextual()) {
            String[] parts = value.asText().split("\\.", 2);
            wrapped.putArray("Fn::GetAtt").add(parts[0]).add(parts.length > 1 ? parts[1] : "");
        } else {
            wrapped.set("Fn::" + name, value);
        }
        return wrapped;
    }

    private static JsonNode scalar(ScalarNode s) {
        Tag tag = s.getTag();
        String text = s.getValue();
        if (tag.equals(Tag.INT)) {
            java.math.BigInteger n = new java.math.BigInteger(text.replace("_", ""));
            return n.bitLength() < 32 ? JSON.numberNode(n.intValue()) : n.bitLength() < 64 ? JSON.numberNode(n.longValue()) : JSON.numberNode(n);
        }
        if (tag.equals(Tag.BOOL)) {
            return JSON.booleanNode(Boolean.parseBoolean(text.toLowerCase(java.util.Locale.ROOT)));
        }
        if (tag.equals(Tag.NULL)) {
            return JSON.nullNode();
        }
        if (tag.equals(Tag.FLOAT)) {
            return JSON.numberNode(new java.math.BigDecimal(text));
        }
        return JSON.textNode(text);
    }
}
