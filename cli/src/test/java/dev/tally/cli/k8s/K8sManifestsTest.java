package dev.tally.cli.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every FlinkDeployment under {@code k8s/} is valid against the CRD schema shipped in
 * flink-kubernetes-operator-api 1.10.0 (its openAPIV3Schema: types, enums, required fields, and no
 * unknown fields where the schema does not preserve them — the mistakes the API server would reject
 * or, worse, silently drop).
 */
class K8sManifestsTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path K8S =
      Path.of(System.getProperty("user.dir")).getParent().resolve("k8s");

  @Test
  void shouldValidateEveryFlinkDeploymentAgainstTheOperatorCrd() throws Exception {
    JsonNode schema = crdSchema("flinkdeployments.flink.apache.org-v1.yml", "v1beta1");
    List<Path> checked = new ArrayList<>();
    for (Path file : manifests()) {
      for (JsonNode doc : documents(file)) {
        if (!"FlinkDeployment".equals(doc.path("kind").asText())) {
          continue;
        }
        assertThat(doc.path("apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        List<String> problems = new ArrayList<>();
        validate(doc.path("spec"), schema.path("properties").path("spec"), "spec", problems);
        // The one known difference: the 1.10.0 CRD predates Flink 2 (its flinkVersion enum ends
        // at v1_20). The manifest must say v2_2 for a Flink 2.2 image, so it needs an operator
        // release with Flink 2 support (k8s/README.md); everything else must validate.
        assertThat(problems)
            .as(file + " " + doc.path("metadata").path("name"))
            .allSatisfy(
                p -> assertThat(p).startsWith("spec.flinkVersion: 'v2_2' is not one of [v1_13"));
        assertThat(doc.path("spec").path("flinkVersion").asText()).isEqualTo("v2_2");
        checked.add(file);
      }
    }
    assertThat(checked).as("FlinkDeployments found under k8s/").isNotEmpty();
  }

  @Test
  void shouldRenderBlueAndGreenOverlaysIntoValidSeparateGenerations() throws Exception {
    JsonNode schema = crdSchema("flinkdeployments.flink.apache.org-v1.yml", "v1beta1");
    Map<String, JsonNode> rendered = new java.util.TreeMap<>();
    for (String overlay : List.of("blue", "green")) {
      List<JsonNode> docs = render(K8S.resolve("overlays").resolve(overlay));
      assertThat(docs).as(overlay).hasSize(1);
      JsonNode d = docs.get(0);
      List<String> problems = new ArrayList<>();
      validate(d.path("spec"), schema.path("properties").path("spec"), "spec", problems);
      assertThat(problems)
          .as(overlay)
          .allSatisfy(p -> assertThat(p).startsWith("spec.flinkVersion: 'v2_2'"));
      rendered.put(overlay, d);
    }
    JsonNode blue = rendered.get("blue");
    JsonNode green = rendered.get("green");
    assertThat(generationArg(blue)).isEqualTo("g1");
    assertThat(generationArg(green)).isEqualTo("g2");
    assertThat(green.path("metadata").path("labels").path("tally.dev/generation").asText())
        .isEqualTo("g2");
    assertThat(green.path("metadata").path("name").asText())
        .isNotEqualTo(blue.path("metadata").path("name").asText());
    for (String key :
        List.of(
            "execution.checkpointing.dir",
            "execution.checkpointing.savepoint-dir",
            "high-availability.storageDir")) {
      assertThat(green.path("spec").path("flinkConfiguration").path(key).asText())
          .as(key + " is green's own")
          .contains("/g2/")
          .isNotEqualTo(blue.path("spec").path("flinkConfiguration").path(key).asText());
    }
  }

  private static String generationArg(JsonNode deployment) {
    JsonNode args = deployment.path("spec").path("job").path("args");
    for (int i = 0; i + 1 < args.size(); i++) {
      if ("--tally.generation".equals(args.get(i).asText())) {
        return args.get(i + 1).asText();
      }
    }
    return null;
  }

  /** A kustomization rendered: its resources (files or directories) with its JSON 6902 patches. */
  private static List<JsonNode> render(Path dir) throws Exception {
    JsonNode k = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
    List<JsonNode> docs = new ArrayList<>();
    for (JsonNode resource : k.path("resources")) {
      Path r = dir.resolve(resource.asText()).normalize();
      docs.addAll(Files.isDirectory(r) ? render(r) : documents(r));
    }
    for (JsonNode patch : k.path("patches")) {
      JsonNode ops = YAML.readTree(patch.path("patch").asText());
      for (JsonNode doc : docs) {
        if (doc.path("kind").asText().equals(patch.path("target").path("kind").asText())
            && doc.path("metadata")
                .path("name")
                .asText()
                .equals(patch.path("target").path("name").asText())) {
          for (JsonNode op : ops) {
            assertThat(op.path("op").asText()).as("only replace is used").isEqualTo("replace");
            replace(doc, op.path("path").asText(), op.path("value"));
          }
        }
      }
    }
    return docs;
  }

  /** JSON Pointer replace (RFC 6901 escapes); the target must exist, as kustomize requires. */
  private static void replace(JsonNode doc, String pointer, JsonNode value) {
    String[] parts = pointer.substring(1).split("/");
    JsonNode parent = doc;
    for (int i = 0; i < parts.length - 1; i++) {
      String key = parts[i].replace("~1", "/").replace("~0", "~");
      parent = parent.isArray() ? parent.get(Integer.parseInt(key)) : parent.get(key);
      assertThat(parent).as(pointer).isNotNull();
    }
    String last = parts[parts.length - 1].replace("~1", "/").replace("~0", "~");
    if (parent.isArray()) {
      ((com.fasterxml.jackson.databind.node.ArrayNode) parent).set(Integer.parseInt(last), value);
    } else {
      assertThat(parent.has(last)).as(pointer + " exists").isTrue();
      ((com.fasterxml.jackson.databind.node.ObjectNode) parent).set(last, value);
    }
  }

  @Test
  void shouldRejectAMisspelledFieldAndAWrongType() throws Exception {
    JsonNode schema = crdSchema("flinkdeployments.flink.apache.org-v1.yml", "v1beta1");
    JsonNode spec =
        YAML.readTree(
            "flinkConfigurations: {a: b}\n"
                + "job: {jarURI: local:///x.jar, upgradeMode: sometimes, parallelism: two}\n");
    List<String> problems = new ArrayList<>();
    validate(spec, schema.path("properties").path("spec"), "spec", problems);
    assertThat(problems)
        .anySatisfy(p -> assertThat(p).contains("spec.flinkConfigurations: unknown field"))
        .anySatisfy(p -> assertThat(p).contains("spec.job.upgradeMode").contains("not one of"))
        .anySatisfy(p -> assertThat(p).contains("spec.job.parallelism: expected integer"));
  }

  /**
   * The capture Deployment runs what its arguments say (parsed by the process's own parser), on the
   * port its probes, Service and container declare, with its token file where the ConfigMap is
   * mounted and in a form the endpoint reads.
   */
  @Test
  void shouldDeployTheCaptureEndpointAsItsOwnArgumentsProbesAndServiceSay() throws Exception {
    List<JsonNode> docs = documents(K8S.resolve("capture/tally-capture.yaml"));
    JsonNode deployment = kind(docs, "Deployment");
    JsonNode service = kind(docs, "Service");
    JsonNode configMap = kind(docs, "ConfigMap");
    JsonNode pod = deployment.path("spec").path("template").path("spec");
    JsonNode container = pod.path("containers").get(0);
    List<String> args = new ArrayList<>();
    container.path("args").forEach(a -> args.add(a.asText()));
    dev.tally.capture.CaptureMain.Settings settings =
        dev.tally.capture.CaptureMain.parse(args.toArray(String[]::new));

    JsonNode port = container.path("ports").get(0);
    assertThat(port.path("containerPort").asInt()).isEqualTo(settings.port());
    assertThat(settings.host()).as("reachable from the Service").isEqualTo("0.0.0.0");
    for (String probe : List.of("readinessProbe", "livenessProbe")) {
      assertThat(container.path(probe).path("httpGet").path("port").asText())
          .isEqualTo(port.path("name").asText());
      assertThat(container.path(probe).path("httpGet").path("path").asText()).isEqualTo("/_health");
    }
    assertThat(service.path("spec").path("ports").get(0).path("targetPort").asText())
        .isEqualTo(port.path("name").asText());
    assertThat(service.path("spec").path("selector"))
        .isEqualTo(deployment.path("spec").path("selector").path("matchLabels"));
    assertThat(
            deployment
                .path("spec")
                .path("template")
                .path("metadata")
                .path("annotations")
                .path("prometheus.io/path")
                .asText())
        .isEqualTo("/_metrics");

    JsonNode mount = container.path("volumeMounts").get(0);
    assertThat(settings.tokenFile().getParent().toString())
        .isEqualTo(mount.path("mountPath").asText());
    JsonNode volume = pod.path("volumes").get(0);
    assertThat(volume.path("name").asText()).isEqualTo(mount.path("name").asText());
    assertThat(volume.path("configMap").path("name").asText())
        .isEqualTo(configMap.path("metadata").path("name").asText());
    String fileName = settings.tokenFile().getFileName().toString();
    Path tokens = java.nio.file.Files.createTempFile("tokens", ".properties");
    java.nio.file.Files.writeString(tokens, configMap.path("data").path(fileName).asText());
    assertThat(
            new dev.tally.capture.TokenMap(tokens, java.util.Map.of(), false)
                .project("phc_replace_me"))
        .hasValue("acme");
  }

  private static JsonNode kind(List<JsonNode> docs, String kind) {
    return docs.stream()
        .filter(d -> kind.equals(d.path("kind").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind));
  }

  private static JsonNode crdSchema(String resource, String version) throws Exception {
    try (InputStream in =
        K8sManifestsTest.class
            .getClassLoader()
            .getResourceAsStream("META-INF/fabric8/" + resource)) {
      assertThat(in).as(resource + " in flink-kubernetes-operator-api").isNotNull();
      for (JsonNode v : YAML.readTree(in).path("spec").path("versions")) {
        if (version.equals(v.path("name").asText())) {
          return v.path("schema").path("openAPIV3Schema");
        }
      }
    }
    throw new AssertionError("no version " + version + " in " + resource);
  }

  private static List<Path> manifests() throws Exception {
    try (Stream<Path> files = Files.walk(K8S)) {
      return files.filter(f -> f.toString().matches(".*\\.ya?ml")).sorted().toList();
    }
  }

  private static List<JsonNode> documents(Path file) throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
      Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
      it.forEachRemaining(
          d -> {
            if (d != null && !d.isNull() && !d.isMissingNode()) {
              docs.add(d);
            }
          });
    }
    return docs;
  }

  /** A subset of OpenAPI v3 as Kubernetes structural schemas use it. */
  static void validate(JsonNode value, JsonNode schema, String path, List<String> problems) {
    if (schema.isMissingNode() || value.isNull()) {
      return;
    }
    if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      if (!value.isIntegralNumber() && !value.isTextual()) {
        problems.add(path + ": expected integer or string");
      }
      return;
    }
    String type = schema.path("type").asText("");
    switch (type) {
      case "object" -> {
        if (!value.isObject()) {
          problems.add(path + ": expected object");
          return;
        }
        JsonNode properties = schema.path("properties");
        JsonNode additional = schema.path("additionalProperties");
        boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> f = it.next();
          String child = path + "." + f.getKey();
          if (properties.has(f.getKey())) {
            validate(f.getValue(), properties.get(f.getKey()), child, problems);
          } else if (additional.isObject()) {
            validate(f.getValue(), additional, child, problems);
          } else if (!preserve && !additional.asBoolean(false)) {
            problems.add(child + ": unknown field");
          }
        }
        for (JsonNode required : schema.path("required")) {
          if (!value.has(required.asText())) {
            problems.add(path + "." + required.asText() + ": required");
          }
        }
      }
      case "array" -> {
        if (!value.isArray()) {
          problems.add(path + ": expected array");
          return;
        }
        int i = 0;
        for (JsonNode item : value) {
          validate(item, schema.path("items"), path + "[" + i++ + "]", problems);
        }
      }
      case "string" -> {
        if (!value.isTextual()) {
          problems.add(path + ": expected string");
        } else if (schema.has("enum")) {
          List<String> allowed = new ArrayList<>();
          schema.get("enum").forEach(e -> allowed.add(e.asText()));
          if (!allowed.contains(value.asText())) {
            problems.add(path + ": '" + value.asText() + "' is not one of " + allowed);
          }
        }
      }
      case "integer" -> {
        if (!value.isIntegralNumber()) {
          problems.add(path + ": expected integer");
        }
      }
      case "number" -> {
        if (!value.isNumber()) {
          problems.add(path + ": expected number");
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          problems.add(path + ": expected boolean");
        }
      }
      default -> {}
    }
  }
}
