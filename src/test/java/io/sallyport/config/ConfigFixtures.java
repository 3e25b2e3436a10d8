package io.sallyport.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/** Parses YAML text as if it were {@code /etc/sallyport/sallyport.yaml}. */
final class ConfigFixtures {
    static final Path SOURCE = Path.of("/etc/sallyport/sallyport.yaml");

    private ConfigFixtures() {}

    static Config parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, SOURCE);
    }

    /** The problems of a config that must be refused; fails the test when it is accepted. */
    static List<ConfigProblem> problemsOf(String yaml) {
        AtomicReference<List<ConfigProblem>> problems = new AtomicReference<>();
        assertThatThrownBy(() -> ConfigLoader.parse(yaml, SOURCE))
                .isInstanceOfSatisfying(ConfigException.class, e -> problems.set(e.problems()));
        return problems.get();
    }

    /** The one problem of a config that must be refused for exactly one reason. */
    static ConfigProblem onlyProblemOf(String yaml) {
        List<ConfigProblem> problems = problemsOf(yaml);
        if (problems.size() != 1) {
            throw new AssertionError("expected exactly one problem, got:\n" + new ConfigException(problems).getMessage());
        }
        return problems.get(0);
    }
}
