package io.vortexfs.protocol;

import java.util.List;

/** Checks on list components of wire records, whose element types the decoder cannot see. */
public final class Lists {
    private Lists() {
    }

    /** An immutable copy of {@code list}, after checking that every element is a non-null {@code type}. */
    public static <T> List<T> checked(List<?> list, Class<T> type) {
        if (list == null) {
            throw new IllegalArgumentException("list == null");
        }
        for (Object o : list) {
            if (!type.isInstance(o)) {
                throw new IllegalArgumentException("expected " + type.getSimpleName() + " but got "
                        + (o == null ? "null" : o.getClass().getSimpleName()));
            }
        }
        @SuppressWarnings("unchecked")
        List<T> copy = (List<T>) List.copyOf(list);
        return copy;
    }
}
