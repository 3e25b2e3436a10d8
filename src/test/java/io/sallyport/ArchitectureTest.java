package io.sallyport;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rooms of the code base, kept by tests: each third-party framework stays behind the one door
 * that adapts it, so the rooms behind it (policy, identity, config) stay plain Java that unit
 * tests can drive without a server or a cloud.
 */
class ArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.sallyport");
    }

    @Test
    void minaSshdIsUsedOnlyInTheSshPackage() {
        noClasses().that().resideOutsideOfPackage("io.sallyport.ssh..")
                .should().dependOnClassesThat().resideInAPackage("org.apache.sshd..")
                .because("MINA's callbacks are adapted in io.sallyport.ssh; policy and identity stay testable as plain Java")
                .check(main);
    }

    @Test
    void awsSdkIsUsedOnlyByTheClientFactoryAndItsTwoUsers() {
        noClasses().that().resideOutsideOfPackages("io.sallyport.aws..", "io.sallyport.identity.iam..", "io.sallyport.audit..")
                .should().dependOnClassesThat().resideInAPackage("software.amazon.awssdk..")
                .because("SDK clients are built in io.sallyport.aws and used only by the IAM source and the CloudWatch shipper")
                .check(main);
    }

    @Test
    void configUsesNoOtherRoomButNet() {
        noClasses().that().resideInAPackage("io.sallyport.config..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.sallyport.policy..", "io.sallyport.identity..", "io.sallyport.audit..", "io.sallyport.aws..",
                        "io.sallyport.ssh..", "io.sallyport.admission..", "io.sallyport.cli..")
                .because("every other room reads the config; config reading any of them makes a cycle")
                .check(main);
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("io.sallyport.(*)..").should().beFreeOfCycles().check(main);
    }

    @Test
    void onlyTheCommandLineExitsTheProcess() {
        noClasses().that().resideOutsideOfPackage("io.sallyport.cli..")
                .should().callMethod(System.class, "exit", int.class)
                .orShould().callMethod(Runtime.class, "exit", int.class)
                .orShould().callMethod(Runtime.class, "halt", int.class)
                .because("a library room that exits takes every engineer's session with it; it reports, the CLI decides")
                .check(main);
    }
}
