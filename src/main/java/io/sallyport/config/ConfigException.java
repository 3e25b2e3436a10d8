package io.sallyport.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A configuration file that must not be used. Carries every problem found, not just the first,
 * so that one run of {@code sallyport check-config} shows the operator everything to fix.
 */
public final class ConfigException extends Exception {
    private final List<ConfigProblem> problems;

    /** @param problems at least one problem, in the order they should be shown */
    public ConfigException(List<ConfigProblem> problems) {
        super(problems.stream().map(ConfigProblem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** The problems, ordered by line; never empty. */
    public List<ConfigProblem> problems() {
        return problems;
    }
}
