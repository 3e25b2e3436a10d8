package io.sallyport.admin;

import io.sallyport.config.Config;
import io.sallyport.identity.Identity;
import io.sallyport.net.IpLiterals;
import io.sallyport.net.Printable;
import io.sallyport.policy.Decision;
import io.sallyport.policy.RoleConditions;
import io.sallyport.ssh.Rules;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Answers {@code explain} by the {@link Rules} it is given, with the calls a login and a tunnel
 * request make: the identity a plain-key login as the user would have ({@code Logins#lookup}),
 * whether such a login would be refused now whatever the key ({@code Logins#loginRefusal}: IAM data
 * too old, a user IAM does not allow), then {@code ForwardingPolicy#decide} for the identity's roles
 * that a login from the address asked about keeps ({@code RoleConditions}: a role's {@code from};
 * its {@code require} is named as a condition on the login).
 *
 * <p>A decision may block in the system resolver, a call that cannot be interrupted. So it runs on
 * at most {@link #MAX_DECIDING} threads of this explainer's own, and the answer waits for it at most
 * {@code limits.resolve_timeout}, after which it is the server's own refusal ({@code resolve_timeout:
 * NAME not resolved within 2s}); never longer than {@link #MAX_WAIT}, so that the admin socket's
 * worker and its caller are free in bounded time whatever the resolver does. A thread stays taken
 * until the resolver returns; while all are, an explain is refused as {@link Busy}.
 */
public final class Explainer {
    /** An operator asks one question at a time; two leave room for a second while one name hangs. */
    static final int MAX_DECIDING = 2;
    /** Under the CLI's 30s wait for the answer (and the socket's 30s to take it), with room to spare. */
    static final Duration MAX_WAIT = Duration.ofSeconds(20);

    private final boolean live;
    private final ThreadPoolExecutor deciders;

    private Explainer(boolean live) {
        this.live = live;
        AtomicInteger n = new AtomicInteger();
        this.deciders = new ThreadPoolExecutor(0, MAX_DECIDING, 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "sallyport-explain-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** For the running server: its identity sources are live (IAM users included). */
    public static Explainer live() {
        return new Explainer(true);
    }

    /** For the CLI when no server answers: the rules hold the config's own identities alone. */
    public static Explainer configOnly() {
        return new Explainer(false);
    }

    /** Every decision thread is still waiting for the resolver. */
    public static final class Busy extends Exception {
        Busy() {
            super("busy: " + MAX_DECIDING + " explain decisions are still waiting for the resolver; try again", null,
                    false, false);
        }
    }

    public Explanation explain(Rules rules, AdminProtocol.Request.Explain q) throws Busy {
        List<String> notes = new ArrayList<>();
        certificateNote(rules.config(), q.user()).ifPresent(notes::add);
        boolean iam = rules.config().identity().iam().enabled();
        Optional<Identity> who = rules.logins().lookup(q.user());
        if (!live && iam && who.isEmpty()) {
            notes.add("IAM users are known only to the running server (identity.iam is on)");
        }
        Optional<String> refused = rules.logins().loginRefusal(q.user());
        if (refused.isPresent()) {
            return new Explanation(q, who, new Decision.Deny("login refused: " + refused.get()), notes);
        }
        if (who.isEmpty()) {
            String reason = "no user '" + q.user() + "' in identity.local"
                    + (live && iam ? " nor among the IAM users allowed under path_prefix "
                            + rules.config().identity().iam().pathPrefix() : "")
                    + (rules.config().identity().certificates().authorities().isEmpty() ? "; no login, so no tunnel" : "");
            return new Explanation(q, who, new Decision.Deny(reason), notes);
        }
        // The roles' from is judged on the address asked about; their require is a condition on the
        // login's key, which explain cannot see: said, and the role counted as met.
        RoleConditions.Explained conditions = rules.policy().conditions().explain(who.get().roles(),
                q.from().flatMap(IpLiterals::parse));
        for (RoleConditions.Dropped d : conditions.dropped()) {
            notes.add("role " + d.role() + " does not apply: " + d.reason());
        }
        for (RoleConditions.Pending p : conditions.pending()) {
            notes.add("role " + p.role() + " applies only to a login that meets: " + p.condition());
        }
        return new Explanation(q, who, decide(rules, conditions.kept(), q.target()), notes);
    }

    private Decision decide(Rules rules, List<String> roles, Config.HostPort target) throws Busy {
        Future<Decision> running;
        try {
            running = deciders.submit(() -> rules.policy().decide(roles, target.host(), target.port()));
        } catch (RejectedExecutionException e) {
            throw new Busy();
        }
        Duration resolveTimeout = rules.config().limits().resolveTimeout();
        Duration wait = resolveTimeout.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : resolveTimeout;
        try {
            return running.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            running.cancel(true);
            return new Decision.Deny(wait.equals(resolveTimeout) ? timeoutReason(target.host(), resolveTimeout)
                    : "explain waited " + seconds(wait) + " for a decision and gave up (limits.resolve_timeout is "
                            + seconds(resolveTimeout) + ")");
        } catch (ExecutionException e) {
            // As the server's own tunnel path answers a policy that throws.
            return new Decision.Deny("policy error: " + e.getCause().getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.cancel(true);
            return new Decision.Deny("explain was interrupted before the decision was taken");
        }
    }

    /** The words of the server's own {@code forward.reject} when a decision outlasts {@code resolve_timeout}. */
    static String timeoutReason(String host, Duration timeout) {
        return IpLiterals.parse(host).isPresent()
                ? "resolve_timeout: no decision within " + seconds(timeout)
                : "resolve_timeout: " + Printable.of(host) + " not resolved within " + seconds(timeout);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    /**
     * A certificate names its own user and roles, so explain cannot know them; it says which CAs
     * could let the user in and which roles each may grant.
     */
    private static Optional<String> certificateNote(Config config, String user) {
        List<Config.Authority> cas = config.identity().certificates().authorities();
        if (cas.isEmpty()) {
            return Optional.empty();
        }
        List<String> each = new ArrayList<>();
        for (Config.Authority ca : cas) {
            each.add(ca.name() + " (" + (ca.grantableRoles().isEmpty() ? "no roles" : String.join(", ", ca.grantableRoles())) + ")");
        }
        return Optional.of("a certificate login as " + user + " is not explained here: its roles come from"
                + " the certificate (" + io.sallyport.identity.CertificateVerifier.ROLES_EXTENSION
                + "), within what its CA may grant: " + String.join(", ", each));
    }
}
