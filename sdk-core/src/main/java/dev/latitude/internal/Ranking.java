package dev.latitude.internal;

/** Sorting helpers for the planner's small arrays (a handful of regions): allocation-free and stable. */
final class Ranking {
    private Ranking() {
    }

    /**
     * Stable insertion sort of {@code items[from, to)} by ascending {@code ranks}, moving both arrays together.
     *
     * @param items the values to reorder
     * @param ranks their ranks, position by position
     * @param from first position, inclusive
     * @param to last position, exclusive
     */
    static void sort(int[] items, double[] ranks, int from, int to) {
        for (int i = from + 1; i < to; i++) {
            int item = items[i];
            double rank = ranks[i];
            int j = i - 1;
            while (j >= from && Double.compare(ranks[j], rank) > 0) {
                items[j + 1] = items[j];
                ranks[j + 1] = ranks[j];
                j--;
            }
            items[j + 1] = item;
            ranks[j + 1] = rank;
        }
    }
}
