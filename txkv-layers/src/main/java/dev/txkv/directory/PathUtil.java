package dev.txkv.directory;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Directory paths: immutable lists of names. */
final class PathUtil {
    private PathUtil() {
    }

    /** An immutable copy; a path with a null name is refused, since names are tuple strings. */
    static List<String> copy(List<String> path) {
        Objects.requireNonNull(path, "path");
        for (String name : path) {
            Objects.requireNonNull(name, "A directory name cannot be null");
        }
        return List.copyOf(path);
    }

    static List<String> join(List<String> a, List<String> b) {
        List<String> r = new ArrayList<>(a.size() + b.size());
        r.addAll(a);
        r.addAll(b);
        return List.copyOf(r);
    }

    static List<String> popBack(List<String> path) {
        return path.subList(0, path.size() - 1);
    }

    static String last(List<String> path) {
        return path.get(path.size() - 1);
    }

    static boolean startsWith(List<String> path, List<String> prefix) {
        return prefix.size() <= path.size() && path.subList(0, prefix.size()).equals(prefix);
    }

    /** FoundationDB's notation, {@code (a,b,c)}. */
    static String format(List<String> path) {
        return path == null ? "null" : "(" + String.join(",", path) + ")";
    }
}
