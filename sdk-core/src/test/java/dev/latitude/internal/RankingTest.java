package dev.latitude.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RankingTest {

    @Test
    void sort_distinctRanks_ascendingWithItemsMovedAlong() {
        int[] items = {10, 11, 12, 13, 14};
        double[] ranks = {3.5, -1, 2, 100, 0};

        Ranking.sort(items, ranks, 0, 5);

        assertThat(items).containsExactly(11, 14, 12, 10, 13);
        assertThat(ranks).containsExactly(-1, 0, 2, 3.5, 100);
    }

    @Test
    void sort_equalRanks_keepOriginalOrder() {
        int[] items = {0, 1, 2, 3, 4, 5, 6};
        double[] ranks = {2, 1, 2, 1, 0, 2, 1};

        Ranking.sort(items, ranks, 0, items.length);

        assertThat(items).containsExactly(4, 1, 3, 6, 0, 2, 5);
    }

    @Test
    void sort_subRange_leavesOutsideUntouched() {
        int[] items = {0, 1, 2, 3, 4, 5};
        double[] ranks = {9, 5, 4, 3, 2, -9};

        Ranking.sort(items, ranks, 1, 4);

        assertThat(items).containsExactly(0, 3, 2, 1, 4, 5);
        assertThat(ranks).containsExactly(9, 3, 4, 5, 2, -9);
    }

    @Test
    void sort_emptyAndSingleRange_noChange() {
        int[] items = {7, 8};
        double[] ranks = {5, 1};

        Ranking.sort(items, ranks, 1, 1);
        Ranking.sort(items, ranks, 0, 1);

        assertThat(items).containsExactly(7, 8);
    }

    @Test
    void sort_infinitiesAndMaxValue_orderedAscending() {
        int[] items = {0, 1, 2, 3};
        double[] ranks = {Double.MAX_VALUE, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, -Double.MAX_VALUE};

        Ranking.sort(items, ranks, 0, 4);

        assertThat(items).containsExactly(1, 3, 0, 2);
    }

    @Test
    void sort_randomInputs_matchStableReferenceSort() {
        Random random = new Random(4242);
        for (int round = 0; round < 500; round++) {
            int n = 1 + random.nextInt(12);
            int[] items = new int[n];
            double[] ranks = new double[n];
            Integer[] reference = new Integer[n];
            for (int i = 0; i < n; i++) {
                items[i] = i;
                ranks[i] = random.nextInt(4); // many ties
                reference[i] = i;
            }
            double[] original = ranks.clone();
            java.util.Arrays.sort(reference, (x, y) -> Double.compare(original[x], original[y])); // stable

            Ranking.sort(items, ranks, 0, n);

            for (int i = 0; i < n; i++) {
                assertThat(items[i]).isEqualTo(reference[i]);
                assertThat(ranks[i]).isEqualTo(original[reference[i]]);
            }
        }
    }
}
