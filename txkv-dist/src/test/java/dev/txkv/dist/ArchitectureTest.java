package dev.txkv.dist;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.stream.Stream;

/**
 * The one-way dependencies between txkv's packages (docs/decisions/0001-module-layout.md),
 * checked over the main classes of every module, which this module has on its class path.
 *
 * <p>Rules about modules that are still empty use {@code allowEmptyShould(true)}: they hold
 * vacuously now and start to bite the moment the first class arrives.
 */
@AnalyzeClasses(packages = "dev.txkv", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
    private static final String API = "dev.txkv";
    private static final String SPI = "dev.txkv.spi..";
    private static final String CLIENT = "dev.txkv.client..";
    private static final String ENGINE = "dev.txkv.engine..";
    private static final String REPLICATION = "dev.txkv.replication..";
    private static final String CLI = "dev.txkv.cli..";
    private static final String EXAMPLES = "dev.txkv.examples..";
    private static final String BENCH = "dev.txkv.bench..";
    private static final String SERVER = "dev.txkv.server..";
    private static final String REMOTE = "dev.txkv.remote..";
    private static final String PROTO = "dev.txkv.proto..";
    private static final String LAUNCHER = "dev.txkv.launcher..";
    private static final String CHECK = "dev.txkv.check..";
    private static final String WIRE = "dev.txkv.wire..";
    private static final String[] LAYERS = {"dev.txkv.tuple..", "dev.txkv.subspace..", "dev.txkv.directory.."};
    private static final String[] TOOLKIT = {"dev.txkv.queue..", "dev.txkv.outbox..", "dev.txkv.idempotency..",
        "dev.txkv.lease..", "dev.txkv.saga.."};

    @ArchTest
    static final ArchRule apiDependsOnNoOtherTxkvPackage = noClasses()
            .that().resideInAnyPackage(API, SPI)
            .should().dependOnClassesThat(txkvPackagesExcept(API, SPI))
            .because("the API is what every other module builds on; it finds implementations with ServiceLoader");

    @ArchTest
    static final ArchRule clientDependsOnlyOnTheApi = noClasses()
            .that().resideInAPackage(CLIENT)
            .should().dependOnClassesThat(txkvPackagesExcept(API, SPI, CLIENT))
            .because("the client is pure Java on the API and SPI, usable without the engine")
            .allowEmptyShould(true);

    @ArchTest
    static final ArchRule engineDependsNeitherOnClientNorOnWhatIsBuiltOnTop = noClasses()
            .that().resideInAPackage(ENGINE)
            .should().dependOnClassesThat().resideInAnyPackage(
                    concat(concat(LAYERS, TOOLKIT), CLIENT, CLI, EXAMPLES, BENCH, SERVER, REMOTE, PROTO, WIRE))
            .because("the engine serves any client through the SPI; Txkv.openEmbedded joins the two at run time")
            .allowEmptyShould(true);

    @ArchTest
    static final ArchRule engineKnowsNoReplication = noClasses()
            .that().resideInAPackage(ENGINE)
            .should().dependOnClassesThat().resideInAnyPackage(REPLICATION, "org.apache.ratis..")
            .because("replication plugs into the engine through its CommitLog seam; embedded users do not pull Ratis");

    @ArchTest
    static final ArchRule replicationBuildsOnlyOnTheEngine = noClasses()
            .that().resideInAPackage(REPLICATION)
            .should().dependOnClassesThat(txkvPackagesExcept(API, SPI, ENGINE, REPLICATION))
            .because("the Raft log is a commit log for the engine, nothing more");

    @ArchTest
    static final ArchRule layersUseOnlyThePublicApi = noClasses()
            .that().resideInAnyPackage(LAYERS)
            .should().dependOnClassesThat(txkvPackagesExcept(concat(LAYERS, API)))
            .because("layers are ordinary code on the public transaction API, with no private access to the engine")
            .allowEmptyShould(true);

    @ArchTest
    static final ArchRule toolkitUsesOnlyThePublicApiAndLayers = noClasses()
            .that().resideInAnyPackage(TOOLKIT)
            .should().dependOnClassesThat(txkvPackagesExcept(concat(concat(LAYERS, TOOLKIT), API)))
            .because("the microservice toolkit is layers too: ordinary code on the public API")
            .allowEmptyShould(true);

    @ArchTest
    static final ArchRule remoteClientDependsOnlyOnTheApiAndTheProtocol = noClasses()
            .that().resideInAPackage(REMOTE)
            .should().dependOnClassesThat(txkvPackagesExcept(API, SPI, PROTO, WIRE, REMOTE))
            .because("the remote client needs nothing but the API and the wire protocol; never the server")
            .allowEmptyShould(true);

    @ArchTest
    static final ArchRule protocolDependsOnNothingOfTxkv = noClasses()
            .that().resideInAPackage(PROTO)
            .should().dependOnClassesThat(txkvPackagesExcept(PROTO))
            .because("the generated protocol classes are shared by server, client and other languages")
            .allowEmptyShould(true);

    @ArchTest
    static final ArchRule wireContractDependsOnlyOnTheApiAndTheProtocol = noClasses()
            .that().resideInAPackage(WIRE)
            .should().dependOnClassesThat(txkvPackagesExcept(API, SPI, PROTO, WIRE))
            .because("the error table, the trailer codec and the commit message codec (from the backend SPI's"
                    + " CommitRequest) are shared by server and remote client, so neither may be in it");

    @ArchTest
    static final ArchRule cliNeverDependsOnTheEngine = noClasses()
            .that().resideInAPackage(CLI)
            .should().dependOnClassesThat().resideInAnyPackage(ENGINE, SERVER, EXAMPLES, BENCH)
            .because("the launcher talks to databases through the API; other modules contribute subcommands to it");

    @ArchTest
    static final ArchRule launcherSpiDependsOnNothingOfTxkv = noClasses()
            .that().resideInAPackage(LAUNCHER)
            .should().dependOnClassesThat(txkvPackagesExcept(LAUNCHER))
            .because("the Subcommand SPI and LocalCluster are used by the launcher and by the modules that plug"
                    + " into it; depending on any of them would make a cycle");

    @ArchTest
    static final ArchRule contributedCommandsNeverDependOnTheLauncher = noClasses()
            .that().resideInAnyPackage(SERVER, CHECK, EXAMPLES, BENCH)
            .should().dependOnClassesThat().resideInAPackage(CLI)
            .because("modules contribute subcommands through dev.txkv.launcher.Subcommand, so that the launcher"
                    + " may use them (the remote client's tests need the server) without a cycle");

    @ArchTest
    static final ArchRule checkTestsTheServerFromOutside = noClasses()
            .that().resideInAPackage(CHECK)
            .should().dependOnClassesThat().resideInAnyPackage(SERVER, ENGINE)
            .because("txkv check starts the packaged jar's servers as processes (LocalCluster) and talks to them"
                    + " as a client does");

    @ArchTest
    static final ArchRule examplesAreUserCode = noClasses()
            .that().resideInAPackage(EXAMPLES)
            .should().dependOnClassesThat().resideInAnyPackage(SPI, CLIENT, ENGINE)
            .because("examples show what users write: the public API and layers only")
            .allowEmptyShould(true);

    @ArchTest
    static final ArchRule leafModulesAreLeaves = noClasses()
            .that().resideOutsideOfPackages(EXAMPLES, BENCH)
            .should().dependOnClassesThat().resideInAnyPackage(EXAMPLES, BENCH)
            .because("examples and benchmarks use the rest; nothing uses them");

    @ArchTest
    static final ArchRule noCyclesBetweenTopLevelPackages = slices()
            .matching("dev.txkv.(*)..")
            .should().beFreeOfCycles()
            .allowEmptyShould(true);

    /** Guards against rules that pass because the import found nothing. */
    @ArchTest
    static void importFindsTheModules(JavaClasses classes) {
        assertThat(classes.contain("dev.txkv.Txkv")).as("API classes imported").isTrue();
        assertThat(classes.contain("dev.txkv.spi.Backend")).as("SPI classes imported").isTrue();
        assertThat(classes.contain("dev.txkv.cli.Main")).as("launcher classes imported").isTrue();
        assertThat(classes.contain("dev.txkv.launcher.Subcommand")).as("launcher SPI classes imported").isTrue();
        assertThat(classes.contain("dev.txkv.check.Cluster")).as("check classes imported").isTrue();
        assertThat(classes.contain("dev.txkv.examples.EmbeddedExample")).as("example classes imported").isTrue();
    }

    /** Guards against rules that pass because they cannot fail: one is shown a violation. */
    @org.junit.jupiter.api.Test
    void rulesCatchAViolation() {
        JavaClasses offending = new ClassFileImporter().importPackages("dev.txkv.cli", "dev.txkv.engine");
        assertThat(offending.contain("dev.txkv.cli.FixtureCommandUsingTheEngine")).isTrue();
        EvaluationResult result = cliNeverDependsOnTheEngine.evaluate(offending);
        assertThat(result.hasViolation()).isTrue();
        assertThat(result.getFailureReport().getDetails())
                .anyMatch(line -> line.contains("FixtureCommandUsingTheEngine") && line.contains("FixtureEngine"));
    }

    private static DescribedPredicate<JavaClass> txkvPackagesExcept(String... allowed) {
        return resideInAPackage("dev.txkv..").and(not(resideInAnyPackage(allowed)))
                .as("txkv classes outside " + String.join(", ", allowed));
    }

    private static String[] concat(String[] packages, String... more) {
        return Stream.concat(Stream.of(packages), Stream.of(more)).toArray(String[]::new);
    }
}
