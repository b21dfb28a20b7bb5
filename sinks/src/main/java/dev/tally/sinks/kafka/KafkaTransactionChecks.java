package dev.tally.sinks.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Refuses settings under which Kafka transactions could silently lose data: a transaction timeout
 * above the broker's cap fails every producer at start, and one below checkpoint interval + restart
 * budget lets the broker abort transactions that Flink will later try to commit (Flink only logs
 * that, and the data is gone).
 */
public final class KafkaTransactionChecks {
  private KafkaTransactionChecks() {}

  /**
   * Returns the problems found; empty when the settings are safe.
   *
   * @param timeoutOption the option that sets {@code transactionTimeout}, named in the remedy
   */
  public static List<String> problems(
      String bootstrapServers,
      Duration transactionTimeout,
      Duration checkpointInterval,
      Duration restartBudget,
      String timeoutOption)
      throws Exception {
    Properties props = new Properties();
    props.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    try (Admin admin = Admin.create(props)) {
      DescribeClusterResult cluster = admin.describeCluster();
      String brokerId = Integer.toString(cluster.controller().get(15, TimeUnit.SECONDS).id());
      ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, brokerId);
      Map<ConfigResource, Config> configs =
          admin.describeConfigs(List.of(broker)).all().get(15, TimeUnit.SECONDS);
      ConfigEntry max = configs.get(broker).get("transaction.max.timeout.ms");
      long brokerMax = max == null ? 900_000L : Long.parseLong(max.value());
      return evaluate(
          transactionTimeout, brokerMax, checkpointInterval, restartBudget, timeoutOption);
    }
  }

  static List<String> evaluate(
      Duration transactionTimeout,
      long brokerMaxMs,
      Duration checkpointInterval,
      Duration restartBudget,
      String timeoutOption) {
    long timeout = transactionTimeout.toMillis();
    long needed = checkpointInterval.plus(restartBudget).toMillis();
    java.util.ArrayList<String> problems = new java.util.ArrayList<>();
    if (timeout > brokerMaxMs) {
      problems.add(
          "Kafka transaction.timeout.ms "
              + timeout
              + " exceeds the broker's transaction.max.timeout.ms "
              + brokerMaxMs
              + ": producers would fail to start. Lower "
              + timeoutOption
              + ".");
    }
    if (timeout < needed) {
      problems.add(
          "Kafka transaction.timeout.ms "
              + timeout
              + " is below checkpoint interval + restart budget ("
              + needed
              + " ms): the broker could abort a transaction before Flink commits it, losing"
              + " data. Raise "
              + timeoutOption
              + " or shorten the checkpoint interval.");
    }
    return problems;
  }
}
