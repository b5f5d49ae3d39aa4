/* fake_nvml_nosym.c - fake_nvml.so without nvmlDeviceGetTotalEnergyConsumption:
 * the NVML meter must refuse it and name the missing symbol. */
#define FAKE_NVML_OMIT_ENERGY 1
#include "fake_nvml.c"
