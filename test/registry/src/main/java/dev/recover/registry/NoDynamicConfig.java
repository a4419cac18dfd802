package dev.recover.registry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import javax.enterprise.inject.Produces;
import javax.inject.Singleton;

/**
 * Stands in for apicurio-common-app-components-config-index-deployment, which is not on Maven
 * Central: that build step lists the properties an admin may change at run time. None here.
 */
public class NoDynamicConfig {
  @Produces
  @Singleton
  DynamicConfigPropertyList dynamicConfigProperties() {
    return new DynamicConfigPropertyList(java.util.List.of());
  }
}
