package io.sallyport.config;

/** Spells key paths the way problems show them: {@code policy.roles.admin.allow[1]}. */
final class KeyPath {
    private KeyPath() {}

    static String child(String parent, String key) {
        // A blank key ("": 1, or a bare "?") would leave FILE:LINE: key: message with no key to read.
        String shown = key.isBlank() ? "'" + key + "'" : key;
        return parent.isEmpty() ? shown : parent + "." + shown;
    }

    static String item(String parent, int index) {
        return parent + "[" + index + "]";
    }
}
