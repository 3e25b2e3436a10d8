package io.sallyport.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads YAML text into a {@link YamlNode} tree with line numbers, using Jackson's streaming parser.
 *
 * <p>Refuses, as problems, what YAML allows but a security policy file should not: repeated keys
 * (which one wins is a trap), aliases (a rule that silently follows a change elsewhere) and more
 * than one document (a second half an operator may believe is read).
 */
final class YamlTreeBuilder {

    /*
     * yes/no/on/off are YAML 1.1 booleans that YAML 1.2 reads as strings; Jackson follows 1.1
     * unless told otherwise. Taking them as strings means "enabled: yes" is refused as not a
     * boolean (one spelling, no surprises) and "region: no" stays a string.
     * An empty value ("key:") is null, as YAML says, rather than Jackson's default empty string.
     */
    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            .build();

    private final ProblemList problems;

    private YamlTreeBuilder(ProblemList problems) {
        this.problems = problems;
    }

    /**
     * @return the document's root; a null scalar for an empty document (or one with only
     *         comments); empty when the text is not YAML, in which case the syntax problem has been
     *         added to {@code problems} and nothing else can be checked
     */
    static Optional<YamlNode> build(String text, ProblemList problems) {
        return new YamlTreeBuilder(problems).buildDocument(text);
    }

    private Optional<YamlNode> buildDocument(String text) {
        try (JsonParser parser = FACTORY.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return Optional.of(new YamlNode.Scalar(YamlNode.Kind.NULL, "", Optional.empty(), 1));
            }
            YamlNode root = read(parser, first, "");
            JsonToken next = parser.nextToken();
            if (next != null) {
                problems.add(line(parser), ConfigProblem.YAML_SYNTAX,
                        "only one YAML document is allowed; a second one starts here (after a '---')");
            }
            return Optional.of(root);
        } catch (JsonProcessingException e) {
            reportSyntaxError(e);
            return Optional.empty();
        } catch (IOException e) {
            // The parser reads from a String: there is no I/O that could fail.
            throw new UncheckedIOException(e);
        }
    }

    /** @return the node; {@link YamlNode.Refused} when it was refused (an alias) and has been reported */
    private YamlNode read(JsonParser parser, JsonToken token, String path) throws IOException {
        int line = line(parser);
        switch (token) {
            case START_OBJECT:
                return readMapping(parser, path, line);
            case START_ARRAY:
                return readSequence(parser, path, line);
            case VALUE_STRING:
                if (((YAMLParser) parser).isCurrentAlias()) {
                    problems.add(line, path.isEmpty() ? ConfigProblem.YAML_SYNTAX : path,
                            "YAML aliases (*" + parser.getText() + ") are not supported; write the value out in full");
                    return new YamlNode.Refused(line);
                }
                return scalar(YamlNode.Kind.STRING, parser, line);
            case VALUE_NUMBER_INT:
                return new YamlNode.Scalar(YamlNode.Kind.INTEGER, parser.getText(),
                        Optional.of(parser.getBigIntegerValue()), line);
            case VALUE_NUMBER_FLOAT:
                return scalar(YamlNode.Kind.FLOAT, parser, line);
            case VALUE_TRUE:
            case VALUE_FALSE:
                return scalar(YamlNode.Kind.BOOLEAN, parser, line);
            case VALUE_NULL:
                return scalar(YamlNode.Kind.NULL, parser, line);
            default:
                // Only tags such as !!binary produce these; nothing in the config is binary.
                problems.add(line, path.isEmpty() ? ConfigProblem.YAML_SYNTAX : path,
                        "tagged YAML values such as !!binary are not supported; write plain text");
                return new YamlNode.Refused(line);
        }
    }

    private YamlNode.Mapping readMapping(JsonParser parser, String path, int line) throws IOException {
        List<YamlNode.Entry> entries = new ArrayList<>();
        Map<String, Integer> firstLines = new HashMap<>();
        JsonToken token;
        // SnakeYAML either balances its events or throws; the null check only guards against a loop.
        while ((token = parser.nextToken()) != JsonToken.END_OBJECT && token != null) {
            String key = parser.currentName();
            int keyLine = line(parser);
            String keyPath = KeyPath.child(path, key);
            YamlNode value = read(parser, parser.nextToken(), keyPath);
            Integer first = firstLines.putIfAbsent(key, keyLine);
            if (first != null) {
                problems.add(keyLine, keyPath, "duplicate key '" + key + "' (first written at line " + first + ")");
            } else {
                entries.add(new YamlNode.Entry(key, keyLine, value));
            }
        }
        return new YamlNode.Mapping(List.copyOf(entries), line);
    }

    private YamlNode.Sequence readSequence(JsonParser parser, String path, int line) throws IOException {
        List<YamlNode> items = new ArrayList<>();
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY && token != null) {
            items.add(read(parser, token, KeyPath.item(path, items.size())));
        }
        return new YamlNode.Sequence(List.copyOf(items), line);
    }

    /**
     * Turns a parse failure into one line. SnakeYAML's own exception (Jackson keeps it as the
     * cause) knows where the text went wrong; Jackson's location is where its last token started,
     * which can be lines earlier (an unterminated quote is reported at the key before it).
     */
    private void reportSyntaxError(JsonProcessingException e) {
        MarkedYAMLException marked = markedCause(e);
        if (marked != null && marked.getProblemMark() != null) {
            int line = marked.getProblemMark().getLine() + 1;
            StringBuilder message = new StringBuilder(String.valueOf(marked.getProblem()));
            Mark contextMark = marked.getContextMark();
            if (marked.getContext() != null && contextMark != null && contextMark.getLine() + 1 != line) {
                message.append(" (").append(marked.getContext()).append(" at line ").append(contextMark.getLine() + 1).append(')');
            }
            problems.add(line, ConfigProblem.YAML_SYNTAX, "not valid YAML: " + message);
            return;
        }
        int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
        String original = String.valueOf(e.getOriginalMessage());
        // Jackson's own wording names SnakeYAML event classes; say what it means instead.
        String message = original.startsWith("Expected a field name")
                ? "mapping keys must be plain strings"
                : original.lines().findFirst().orElse("unreadable");
        problems.add(line, ConfigProblem.YAML_SYNTAX, "not valid YAML: " + message);
    }

    private static MarkedYAMLException markedCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException marked) {
                return marked;
            }
        }
        return null;
    }

    private static YamlNode.Scalar scalar(YamlNode.Kind kind, JsonParser parser, int line) throws IOException {
        String text = parser.getText();
        return new YamlNode.Scalar(kind, text == null ? "" : text, Optional.<BigInteger>empty(), line);
    }

    private static int line(JsonParser parser) {
        return Math.max(1, parser.currentTokenLocation().getLineNr());
    }
}
