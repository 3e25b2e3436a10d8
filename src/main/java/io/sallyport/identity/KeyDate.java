package io.sallyport.identity;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * When a plain key was put in place, as far as its identity source knows: what
 * {@code identity.max_key_age} measures a key's age from (docs/access-policy.md, "Key age").
 * IAM's SSH public key API records it ({@code UploadDate}); for a key line in an IAM tag or in
 * {@code identity.local}, the operator writes it in the line's comment as {@code date=YYYY-MM-DD}
 * (a UTC day), e.g. {@code ssh-ed25519 AAAA... alice@laptop date=2026-09-01}.
 */
public sealed interface KeyDate {

    /**
     * @param date when the key was put in place (a comment's day: its start, UTC)
     * @param from where the date comes from, for reasons: {@code IAM UploadDate}, {@code date= in tag sallyport:ssh-key-2}
     */
    record Known(Instant date, String from) implements KeyDate {}

    /** @param why why no date is known, for the refusal's reason */
    record Unknown(String why) implements KeyDate {}

    /** The word of a key line's comment that dates it. */
    Pattern DATE_WORD = Pattern.compile("date=(.*)");

    /**
     * The date written in an OpenSSH key line's comment ({@code TYPE BASE64 [COMMENT]}): the one
     * comment word {@code date=YYYY-MM-DD}. No such word, two of them, or one that is not a date
     * each give an {@link Unknown} that says so.
     *
     * @param where the line's place, for messages: {@code tag sallyport:ssh-key-2}, {@code identity.local}
     */
    static KeyDate ofKeyLine(String line, String where) {
        String[] fields = line.trim().split("\\s+");
        List<String> dates = new ArrayList<>();
        for (int i = 2; i < fields.length; i++) {
            var m = DATE_WORD.matcher(fields[i]);
            if (m.matches()) {
                dates.add(m.group(1));
            }
        }
        if (dates.isEmpty()) {
            return new Unknown(where + " has no date=YYYY-MM-DD in its comment");
        }
        if (dates.size() > 1) {
            return new Unknown(where + " has more than one date= in its comment");
        }
        Optional<LocalDate> day = day(dates.get(0));
        if (day.isEmpty()) {
            return new Unknown(where + ": the date= in its comment is not a date YYYY-MM-DD");
        }
        return new Known(day.get().atStartOfDay(ZoneOffset.UTC).toInstant(), "date= in " + where);
    }

    private static Optional<LocalDate> day(String text) {
        if (!text.matches("[0-9]{4}-[0-9]{2}-[0-9]{2}")) {
            return Optional.empty();
        }
        try {
            return Optional.of(LocalDate.parse(text, DateTimeFormatter.ISO_LOCAL_DATE));
        } catch (DateTimeException e) {
            return Optional.empty();
        }
    }
}
