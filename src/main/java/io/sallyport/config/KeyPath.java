package io.sallyport.config;

/** Spells key paths the way problems show them: {@code policy.roles.admin.allow[1]}. */
final class KeyPath {
    private KeyPath() {}

    static String child(String parent, String key) {
        return parent.isEmpty() ? key : parent + "." + key;
    }

    static String item(String parent, int index) {
        return parent + "[" + index + "]";
    }
}
