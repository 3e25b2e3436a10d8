package io.sallyport.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Collects problems while one file is read, so that reading can go on past the first mistake. */
final class ProblemList {
    private final String file;
    private final List<ConfigProblem> problems = new ArrayList<>();

    ProblemList(String file) {
        this.file = file;
    }

    void add(int line, String keyPath, String message) {
        problems.add(new ConfigProblem(file, line, keyPath, message));
    }

    /** A problem found by a {@link ConfigCheck}: kept with its severity, reported against this file. */
    void add(ConfigProblem found) {
        problems.add(new ConfigProblem(file, found.line(), found.keyPath(), found.message(), found.severity()));
    }

    /**
     * Sections are read in dependency order (roles before the users that name them), not file
     * order; sorting by line (stable, so one line's problems keep their order) lets the operator
     * walk down the file.
     */
    List<ConfigProblem> inFileOrder() {
        List<ConfigProblem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparingInt(ConfigProblem::line));
        return sorted;
    }

    /** The warnings, in file order; they never refuse the file. */
    List<ConfigProblem> warnings() {
        return inFileOrder().stream().filter(p -> !p.isError()).toList();
    }

    /** Refuses the file when any problem is an error; the exception also carries the warnings, in file order. */
    void throwIfAny() throws ConfigException {
        if (problems.stream().anyMatch(ConfigProblem::isError)) {
            throw new ConfigException(inFileOrder());
        }
    }
}
