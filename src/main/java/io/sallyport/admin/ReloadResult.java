package io.sallyport.admin;

import java.util.List;
import java.util.Optional;

/**
 * What a reload did: applied (with the keys that still need a restart, and what it did to live
 * sessions), or refused with every problem, the running server unchanged.
 *
 * @param problems      on refusal, each as {@code FILE:LINE: key.path: message} (as {@code check-config} prints them)
 * @param restartNeeded changed keys a reload cannot apply; they keep their running value
 */
public record ReloadResult(boolean applied, String file, Optional<String> digest, List<String> restartNeeded,
                           List<String> problems, int sessionsEnded, int tunnelsClosed) {
    public ReloadResult {
        restartNeeded = List.copyOf(restartNeeded);
        problems = List.copyOf(problems);
    }

    public static ReloadResult refused(String file, List<String> problems) {
        return new ReloadResult(false, file, Optional.empty(), List.of(), problems, 0, 0);
    }
}
