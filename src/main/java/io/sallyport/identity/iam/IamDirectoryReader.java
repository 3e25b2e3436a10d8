package io.sallyport.identity.iam;

import io.sallyport.aws.AwsErrors;
import io.sallyport.identity.KeyDate;
import io.sallyport.identity.SshPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.EncodingType;
import software.amazon.awssdk.services.iam.model.EntityType;
import software.amazon.awssdk.services.iam.model.GetAccountAuthorizationDetailsResponse;
import software.amazon.awssdk.services.iam.model.ListSshPublicKeysResponse;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;
import software.amazon.awssdk.services.iam.model.SSHPublicKeyMetadata;
import software.amazon.awssdk.services.iam.model.Tag;
import software.amazon.awssdk.services.iam.model.UserDetail;

/**
 * Reads, in one refresh, everything IAM says about who may use the bastion, and returns it as a
 * complete {@link IamSnapshot} or throws: there is no partial result. (A page that failed must
 * never read as "these users were deleted".)
 *
 * <p>The calls, chosen so that an account of 5,000 users of whom 300 may log in stays far from
 * IAM's throttling (docs/iam.md has the budget):
 * <ol>
 *   <li>{@code GetAccountAuthorizationDetails(Filter=User, MaxItems=1000)}, every page: each user
 *       with path, ARN, groups and tags in one listing — {@code ceil(U/1000)} calls. (The other
 *       way, {@code ListUsers(PathPrefix)} plus {@code ListUserTags} and {@code ListGroupsForUser}
 *       per user, costs {@code ceil(Up/1000) + 2·Up}: more than 10,000 calls for 5,000 users.)
 *       It has no path filter, so {@code path_prefix} is applied here.</li>
 *   <li>{@code ListSSHPublicKeys(UserName)} for each allowed user only — {@code A} calls (IAM
 *       keeps at most 5 keys a user, so one page).</li>
 *   <li>{@code GetSSHPublicKey(Encoding=SSH)} for each key not fetched before, whatever its
 *       status (an {@code Inactive} key's body is what lets a key tag holding the same key be
 *       refused): a key's body never changes under its id, so bodies are cached by (user, key id,
 *       upload date) — {@code K} calls on the first refresh, then only for newly uploaded keys.</li>
 * </ol>
 * Every call goes through a {@link CallPacer}; retries and their backoff are the SDK client's
 * (built in {@code io.sallyport.aws}).
 */
final class IamDirectoryReader {
    /** GetAccountAuthorizationDetails' largest page; IAM may still return fewer per page. */
    static final int PAGE_SIZE = 1000;

    private record CachedKey(String user, String keyId, Instant uploaded) {}

    private final IamClient iam;
    private final IamIdentities identities;
    private final CallPacer pacer;
    /** Key bodies seen, kept across refreshes; replaced only by a complete refresh. */
    private Map<CachedKey, SshPublicKey> keyBodies = Map.of();

    IamDirectoryReader(IamClient iam, IamIdentities identities, CallPacer pacer) {
        this.iam = iam;
        this.identities = identities;
        this.pacer = pacer;
    }

    /** One complete read, or an exception that says which call failed; never a partial snapshot. */
    IamSnapshot read() throws IamRefreshException {
        Instant asOf = identities.clock().instant();
        Map<CachedKey, SshPublicKey> fetched = new HashMap<>();
        Progress step = new Progress();
        try {
            IamSnapshot snapshot = read(asOf, fetched, step);
            // Only what this refresh saw: a deleted key's body goes with it.
            keyBodies = Map.copyOf(fetched);
            return snapshot;
        } catch (SdkException e) {
            // Bodies fetched before the failure are still right: keep them so the retry is cheaper.
            Map<CachedKey, SshPublicKey> merged = new HashMap<>(keyBodies);
            merged.putAll(fetched);
            keyBodies = Map.copyOf(merged);
            throw new IamRefreshException(step.describe(e), isThrottling(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IamRefreshException("interrupted during " + step.name, false, e);
        }
    }

    /** The calls made so far, and the one in progress for the error message ("GetAccountAuthorizationDetails page 3"). */
    private static final class Progress {
        String name = "start";
        int pages;
        int listings;
        int fetches;

        String describe(SdkException e) {
            Integer attempts = e.numAttempts();
            String how = AwsErrors.serviceError(e).orElseGet(() -> {
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                return root == e ? e.getMessage() : root.getClass().getSimpleName() + ": " + root.getMessage();
            });
            return name + " failed" + (attempts == null ? "" : " after " + attempts + (attempts == 1 ? " attempt" : " attempts"))
                    + " (" + how + ")";
        }
    }

    /** One allowed user as read, before the keys IAM withdrew anywhere are applied to their tags. */
    private record Draft(UserDetail user, List<String> roles, Map<SshPublicKey, IamUser.KeyState> apiKeys,
                         List<TagKey> tagKeys) {}

    /** A key line held in a key tag, with the date its comment gives. */
    private record TagKey(String tag, SshPublicKey key, KeyDate date) {}

    private IamSnapshot read(Instant asOf, Map<CachedKey, SshPublicKey> fetched, Progress step) throws InterruptedException {
        List<UserDetail> users = listUsers(step);
        IamAccessRules rules = identities.rules();
        List<Draft> drafts = new ArrayList<>();
        Map<String, String> refused = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        int inPath = 0;
        for (UserDetail u : users) {
            if (!rules.inPath(u.path())) {
                continue;
            }
            inPath++;
            Map<String, String> tagMap = new LinkedHashMap<>();
            for (Tag t : u.tags()) {
                tagMap.put(t.key(), t.value());
            }
            IamAccessRules.Tags tags = IamAccessRules.Tags.of(tagMap);
            List<String> groups = u.groupList();
            Optional<String> refusal = rules.refusal(u.userName(), tags, groups);
            if (refusal.isPresent()) {
                refused.put(IamAccessRules.lower(u.userName()), refusal.get());
                continue;
            }
            Map<SshPublicKey, IamUser.KeyState> apiKeys = new LinkedHashMap<>();
            step.name = "ListSSHPublicKeys for " + u.userName();
            Optional<List<SSHPublicKeyMetadata>> listed = listKeys(u.userName(), step);
            if (listed.isEmpty()) {
                continue; // deleted between the listing and now: IAM said so, it is not a failure
            }
            for (SSHPublicKeyMetadata meta : listed.get()) {
                CachedKey ref = new CachedKey(u.userName(), meta.sshPublicKeyId(), meta.uploadDate());
                String origin = "IAM SSH public key " + meta.sshPublicKeyId();
                String status = meta.statusAsString();
                // Inactive and Expired bodies are fetched too (once: they are cached like the rest).
                // Without the body, the same key held in a key tag could not be recognised, and a
                // fresh start would let the tag revive a key IAM withdrew.
                SshPublicKey body = keyBodies.get(ref);
                if (body == null) {
                    step.name = "GetSSHPublicKey " + meta.sshPublicKeyId() + " of " + u.userName();
                    Optional<String> line = fetchKey(u.userName(), meta.sshPublicKeyId(), step);
                    if (line.isEmpty()) {
                        continue; // deleted since it was listed
                    }
                    try {
                        body = SshPublicKey.parseLine(line.get());
                    } catch (IllegalArgumentException bad) {
                        problems.add("IAM user " + u.userName() + ": " + origin + " is unusable: " + bad.getMessage());
                        continue;
                    }
                }
                fetched.put(ref, body);
                KeyDate uploaded = meta.uploadDate() == null ? new KeyDate.Unknown("IAM gave no UploadDate for " + origin)
                        : new KeyDate.Known(meta.uploadDate(), "IAM UploadDate of " + meta.sshPublicKeyId());
                apiKeys.putIfAbsent(body, new IamUser.KeyState(origin, status == null ? "Unknown" : status, uploaded));
            }
            List<TagKey> tagKeys = new ArrayList<>();
            for (Map.Entry<String, String> tag : rules.keyTags(tags)) {
                try {
                    tagKeys.add(new TagKey(tag.getKey(), SshPublicKey.parseLine(tag.getValue()),
                            KeyDate.ofKeyLine(tag.getValue(), "tag " + tag.getKey())));
                } catch (IllegalArgumentException bad) {
                    problems.add("IAM user " + u.userName() + ": tag " + tag.getKey() + " is not a public key line: " + bad.getMessage());
                }
            }
            drafts.add(new Draft(u, rules.roles(u.userName(), tags, groups, problems), apiKeys, tagKeys));
        }
        Map<SshPublicKey, IamUser.KeyState> withdrawn = withdrawnKeys(drafts);
        Map<String, IamUser> allowed = new LinkedHashMap<>();
        int activeKeys = 0;
        for (Draft d : drafts) {
            Map<SshPublicKey, IamUser.KeyState> keys = new LinkedHashMap<>(d.apiKeys());
            for (TagKey tag : d.tagKeys()) {
                SshPublicKey key = tag.key();
                if (keys.containsKey(key)) {
                    continue; // the user's own API key decides, Active or not
                }
                IamUser.KeyState off = withdrawn.get(key);
                // A tag never revives a key IAM lists as Inactive or Expired, whoever it is listed for.
                keys.put(key, off != null ? new IamUser.KeyState("tag " + tag.tag() + ", withdrawn as " + off.origin(), off.status())
                        : new IamUser.KeyState("tag " + tag.tag(), "Active", tag.date()));
            }
            activeKeys += (int) keys.values().stream().filter(IamUser.KeyState::active).count();
            UserDetail u = d.user();
            allowed.put(IamAccessRules.lower(u.userName()), new IamUser(u.userName(), u.arn(), d.roles(), keys));
        }
        RefreshStats stats = new RefreshStats(step.pages, step.listings, step.fetches, users.size(), inPath, allowed.size(), activeKeys);
        return new IamSnapshot(asOf, allowed, refused, problems, stats);
    }

    /** Keys that IAM's SSH public key API lists as not Active for some allowed user, with whose they are. */
    private static Map<SshPublicKey, IamUser.KeyState> withdrawnKeys(List<Draft> drafts) {
        Map<SshPublicKey, IamUser.KeyState> out = new HashMap<>();
        for (Draft d : drafts) {
            for (Map.Entry<SshPublicKey, IamUser.KeyState> e : d.apiKeys().entrySet()) {
                if (!e.getValue().active()) {
                    out.putIfAbsent(e.getKey(), new IamUser.KeyState(e.getValue().origin() + " of IAM user " + d.user().userName(),
                            e.getValue().status()));
                }
            }
        }
        return out;
    }

    private List<UserDetail> listUsers(Progress step) throws InterruptedException {
        List<UserDetail> users = new ArrayList<>();
        String marker = null;
        do {
            step.pages++;
            step.name = "GetAccountAuthorizationDetails page " + step.pages;
            pacer.acquire();
            String from = marker;
            GetAccountAuthorizationDetailsResponse page = iam.getAccountAuthorizationDetails(r -> r
                    .filter(EntityType.USER).maxItems(PAGE_SIZE).marker(from));
            users.addAll(page.userDetailList());
            if (Boolean.TRUE.equals(page.isTruncated())) {
                if (page.marker() == null || page.marker().isEmpty()) {
                    // Stopping here would read the missing pages as deleted users.
                    throw software.amazon.awssdk.core.exception.SdkClientException.create(
                            "IAM said the user listing is truncated but gave no Marker to continue");
                }
                marker = page.marker();
            } else {
                marker = null;
            }
        } while (marker != null);
        return users;
    }

    /** @return the user's keys, or empty when IAM says the user no longer exists */
    private Optional<List<SSHPublicKeyMetadata>> listKeys(String user, Progress step) throws InterruptedException {
        List<SSHPublicKeyMetadata> out = new ArrayList<>();
        String marker = null;
        try {
            do {
                pacer.acquire();
                step.listings++;
                String from = marker;
                ListSshPublicKeysResponse r = iam.listSSHPublicKeys(b -> b.userName(user).marker(from));
                out.addAll(r.sshPublicKeys());
                marker = Boolean.TRUE.equals(r.isTruncated()) ? r.marker() : null;
            } while (marker != null && !marker.isEmpty());
        } catch (NoSuchEntityException gone) {
            return Optional.empty();
        }
        return Optional.of(out);
    }

    /** @return the key's one-line OpenSSH form, or empty when IAM says it no longer exists */
    private Optional<String> fetchKey(String user, String keyId, Progress step) throws InterruptedException {
        pacer.acquire();
        step.fetches++;
        try {
            return Optional.ofNullable(iam.getSSHPublicKey(b -> b.userName(user).sshPublicKeyId(keyId).encoding(EncodingType.SSH))
                    .sshPublicKey().sshPublicKeyBody());
        } catch (NoSuchEntityException gone) {
            return Optional.empty();
        }
    }

    private static boolean isThrottling(SdkException e) {
        return e instanceof AwsServiceException aws && aws.isThrottlingException();
    }
}
