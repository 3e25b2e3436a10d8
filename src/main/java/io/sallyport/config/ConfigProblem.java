package io.sallyport.config;

import io.sallyport.net.Printable;

/**
 * One thing wrong with a configuration file, located well enough for an operator to fix it
 * without reading the source: which file, which line, which key.
 *
 * <p>An {@link Severity#ERROR} refuses the file; a {@link Severity#WARNING} is shown but the file
 * is used: it marks something that is allowed yet almost certainly not what the operator meant
 * (an allow rule the deny list makes dead).
 *
 * @param file     the configuration file as it was named to the loader
 * @param line     1-based line of the offending key or value
 * @param keyPath  dotted path of the key, list indices as {@code [i]} (0-based), e.g.
 *                 {@code policy.roles.admin.allow[1]}; {@code (yaml)} when the file is not valid YAML
 * @param message  what is wrong and what would be accepted
 * @param severity whether the file may still be used
 */
public record ConfigProblem(String file, int line, String keyPath, String message, Severity severity) {

    /** Key path used when the text cannot be read as YAML at all, so no key can be named. */
    public static final String YAML_SYNTAX = "(yaml)";

    public enum Severity { ERROR, WARNING }

    /** An error: the file must not be used. */
    public ConfigProblem(String file, int line, String keyPath, String message) {
        this(file, line, keyPath, message, Severity.ERROR);
    }

    public static ConfigProblem warning(String file, int line, String keyPath, String message) {
        return new ConfigProblem(file, line, keyPath, message, Severity.WARNING);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    /**
     * {@code FILE:LINE: key.path: message} (a warning: {@code FILE:LINE: key.path: warning: message}),
     * the form editors and CI logs turn into links. Key paths and messages quote what the file
     * says, user names and YAML keys included, so control characters are escaped: printing a
     * problem must not let the file drive the terminal.
     */
    @Override
    public String toString() {
        return Printable.forTerminal(file) + ":" + line + ": " + Printable.forTerminal(keyPath) + ": "
                + (severity == Severity.WARNING ? "warning: " : "") + Printable.forTerminal(message);
    }
}
