package dev.tally.operators.persons.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.ValidEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * The person protocol on random inputs (links, refusals, cycles, racing merges over five ids) under
 * random schedules. Drained: with every message delivered before the next input, each event's
 * person and properties, the persons, each id's person and the refusals equal the sequential
 * model's on the input order (issue 15). Not drained: every id's events are applied in order, each
 * as the sequential model would apply it at that moment, and the end state is the sequential
 * model's over that order with nothing left waiting.
 */
public class MergeProtocolPropertiesTest {

  /** One generated event: its id, its kind, the id it links to, a property value. */
  public record Spec(int id, int kind, int other, int value) {}

  @Provide
  Arbitrary<Spec> spec() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 4),
            Arbitraries.integers().between(0, 5),
            Arbitraries.integers().between(0, 4),
            Arbitraries.integers().between(0, 3))
        .as(Spec::new);
  }

  public static List<ValidEvent> events(List<Spec> specs) {
    List<ValidEvent> out = new ArrayList<>();
    int n = 0;
    for (Spec s : specs) {
      String d = "d" + s.id();
      String other = "d" + s.other();
      String props =
          switch (s.kind()) {
            case 0 -> "{\"$set\":{\"k" + s.value() + "\":" + s.value() + "}}";
            case 1 -> "{\"$set_once\":{\"k" + s.value() + "\":\"once\"}}";
            case 2 -> "{\"$unset\":[\"k" + s.value() + "\"]}";
            case 3, 4 ->
                "{\"$anon_distinct_id\":\"" + other + "\",\"$set\":{\"by\":\"" + d + "\"}}";
            default -> "{\"alias\":\"" + other + "\"}";
          };
      String name = s.kind() >= 3 ? (s.kind() == 5 ? "$create_alias" : "$identify") : "$pageview";
      ValidEvent e = new ValidEvent();
      e.uuid = String.format("00000000-0000-4000-8000-%012d", ++n);
      e.project = MergeNetwork.PROJECT;
      e.event = name;
      e.distinctId = d;
      e.timestampMillis = 1_796_292_000_000L + n * 1000L;
      e.timestamp = java.time.Instant.ofEpochMilli(e.timestampMillis).toString();
      e.propertiesJson = props;
      e.propertiesPresent = true;
      out.add(e);
    }
    return out;
  }

  @Property(tries = 300)
  void drainedAfterEachInputTheProtocolIsTheSequentialModel(
      @ForAll @Size(min = 1, max = 14) List<@net.jqwik.api.From("spec") Spec> specs,
      @ForAll long seed)
      throws Exception {
    List<ValidEvent> in = events(specs);
    MergeNetwork net = new MergeNetwork(in);
    Random random = new Random(seed);
    List<String> injected = new ArrayList<>();
    for (ValidEvent e : in) {
      net.step(new MergeNetwork.Step(e.distinctId, null)); // each id's inputs are in this order
      injected.add(e.uuid);
      List<MergeNetwork.Step> deliveries;
      while (!(deliveries = deliveriesOf(net)).isEmpty()) {
        net.step(deliveries.get(random.nextInt(deliveries.size())));
      }
      assertThat(net.emittedOrder).as("applied in input order").isEqualTo(injected);
    }
    net.checkFinal();
  }

  @Property(tries = 300)
  void undrainedEveryScheduleIsSerializableAndEndsWithNothingWaiting(
      @ForAll @Size(min = 1, max = 20) List<@net.jqwik.api.From("spec") Spec> specs,
      @ForAll long seed)
      throws Exception {
    MergeNetwork net = new MergeNetwork(events(specs));
    Random random = new Random(seed);
    List<MergeNetwork.Step> steps;
    int n = 0;
    while (!(steps = net.enabled()).isEmpty()) {
      net.step(steps.get(random.nextInt(steps.size())));
      assertThat(++n).as("steps (a livelock would not end)").isLessThan(100_000);
    }
    net.checkFinal();
    assertThat(net.emittedOrder).hasSize(specs.size());
  }

  private static List<MergeNetwork.Step> deliveriesOf(MergeNetwork net) {
    return net.enabled().stream().filter(s -> s.channel() != null).toList();
  }
}
