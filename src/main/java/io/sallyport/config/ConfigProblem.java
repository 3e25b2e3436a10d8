package io.sallyport.config;

/**
 * One thing wrong with a configuration file, located well enough for an operator to fix it
 * without reading the source: which file, which line, which key.
 *
 * @param file    the configuration file as it was named to the loader
 * @param line    1-based line of the offending key or value
 * @param keyPath dotted path of the key, list indices as {@code [i]} (0-based), e.g.
 *                {@code policy.roles.admin.allow[1]}; {@code (yaml)} when the file is not valid YAML
 * @param message what is wrong and what would be accepted
 */
public record ConfigProblem(String file, int line, String keyPath, String message) {

    /** Key path used when the text cannot be read as YAML at all, so no key can be named. */
    public static final String YAML_SYNTAX = "(yaml)";

    /** {@code FILE:LINE: key.path: message}, the form editors and CI logs turn into links. */
    @Override
    public String toString() {
        return file + ":" + line + ": " + keyPath + ": " + message;
    }
}
