package dev.tally.sinks.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * A JobManager builds the job graph in the job's own class loader without ever connecting to
 * PostgreSQL. Loading the PostgreSQL driver there registers it with {@code DriverManager} (a JDK
 * class), which then keeps that class loader and all its classes alive after the job ends: on the
 * local session cluster the JobManager died of Metaspace after about twelve jobs. The driver must
 * only load on the first connection.
 */
class DriverClassLoaderLeakTest {

  /** Child-first for Tally's sink classes and the driver, like Flink's user-code class loader. */
  static final class JobClassLoader extends URLClassLoader {
    JobClassLoader(URL... urls) {
      super(urls, DriverClassLoaderLeakTest.class.getClassLoader());
    }

    @Override
    protected synchronized Class<?> loadClass(String name, boolean resolve)
        throws ClassNotFoundException {
      if (name.startsWith("dev.tally.sinks.") || name.startsWith("org.postgresql.")) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          c = findClass(name);
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
      return super.loadClass(name, resolve);
    }

    boolean loaded(String name) {
      return findLoadedClass(name) != null;
    }
  }

  @Test
  void shouldNotLoadTheDriverWhenTheJobGraphIsBuilt() throws Exception {
    URL sinks = PostgresConnectionConfig.class.getProtectionDomain().getCodeSource().getLocation();
    URL driver = org.postgresql.Driver.class.getProtectionDomain().getCodeSource().getLocation();
    try (JobClassLoader job = new JobClassLoader(sinks, driver)) {
      Class<?> config = Class.forName(PostgresConnectionConfig.class.getName(), true, job);
      assertThat(config.getClassLoader()).isSameAs(job);
      Object built =
          config
              .getConstructor(String.class, String.class, String.class, String.class)
              .newInstance("jdbc:postgresql://localhost:1/tally", "tally_job", null, null);
      assertThat(built.toString()).doesNotContain("password");
      assertThat(job.loaded("org.postgresql.Driver"))
          .as("building the config (as the JobManager does) must not load the driver")
          .isFalse();
    }
  }
}
