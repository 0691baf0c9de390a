package dev.latitude;

import static dev.latitude.ConfigAssertions.assertConfigError;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TopologyTest {
    private static final RegionSpec US = RegionSpec.builder("us-east-1").writer().build();
    private static final RegionSpec EU = RegionSpec.builder("eu-west-1").build();

    @Test
    void build_valid_keepsOrderIndexesAndLocalRegion() {
        Topology t = Topology.builder().region(US).region(EU).localRegion("eu-west-1").build();

        assertThat(t.regions()).containsExactly(US, EU);
        assertThat(t.localRegion()).isEqualTo(EU);
        assertThat(t.indexOf("eu-west-1")).isEqualTo(1);
        assertThat(t.region("us-east-1")).isEqualTo(US);
        assertThat(t.contains("ap-south-1")).isFalse();
        assertThat(t.size()).isEqualTo(2);
    }

    @Test
    void build_noRegions_throwsWithFix() {
        assertConfigError(() -> Topology.builder().localRegion("us-east-1").build(), "topology.regions",
                "no regions", "add at least one with Topology.builder().region(");
    }

    @Test
    void build_duplicateId_throwsNamingIdAndFix() {
        RegionSpec again = RegionSpec.builder("us-east-1").build();

        assertConfigError(() -> Topology.builder().region(US).region(EU).region(again).localRegion("us-east-1").build(),
                "topology.regions", "region 'us-east-1' is added twice", "merge the two definitions");
    }

    @Test
    void build_noWriter_throwsNamingRegionsAndFix() {
        assertConfigError(() -> Topology.builder().region(EU).region(RegionSpec.builder("eu-central-1").build())
                        .localRegion("eu-west-1").build(),
                "topology.regions", "no region is a writer among [eu-west-1, eu-central-1]",
                "RegionSpec.builder(id).writer()");
    }

    @Test
    void build_noReader_throwsNamingRegionsAndFix() {
        RegionSpec writerOnly = RegionSpec.builder("us-east-1").roles(RegionRole.WRITER).build();

        assertConfigError(() -> Topology.builder().region(writerOnly).localRegion("us-east-1").build(),
                "topology.regions", "no region is a reader among [us-east-1]", "give at least one region the READER role");
    }

    @Test
    void build_missingLocalRegion_throwsListingCandidates() {
        assertConfigError(() -> Topology.builder().region(US).region(EU).build(), "topology.localRegion",
                "not set", "call localRegion(id)", "[us-east-1, eu-west-1]");
    }

    @Test
    void build_unknownLocalRegion_throwsNamingValueAndCandidates() {
        assertConfigError(() -> Topology.builder().region(US).region(EU).localRegion("eu-west-9").build(),
                "topology.localRegion", "'eu-west-9' is not one of the regions [us-east-1, eu-west-1]",
                "add it with region(...) or pick one of those");
    }

    @Test
    void indexOf_unknownRegion_throwsNamingIdAndTopology() {
        Topology t = Topology.builder().region(US).localRegion("us-east-1").build();

        assertConfigError(() -> t.indexOf("nope"), "region", "'nope' is not in the topology [us-east-1]");
    }

    @Test
    void toBuilder_addRegion_derivesVariantWithoutChangingOriginal() {
        Topology t = Topology.builder().region(US).localRegion("us-east-1").build();

        Topology bigger = t.toBuilder().region(EU).build();

        assertThat(bigger.regions()).containsExactly(US, EU);
        assertThat(bigger.localRegion()).isEqualTo(US);
        assertThat(t.regions()).containsExactly(US);
    }
}
