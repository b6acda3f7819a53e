// Loads the plugin given as argument with dlopen, as an application loads
// its plugins, and calls it.
#include <dlfcn.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: plugin_host PLUGIN.so\n";
    return 2;
  }
  void* plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (plugin == nullptr) {
    std::cerr << "plugin_host: " << dlerror() << "\n";
    return 1;
  }
  using publish_fn = unsigned long long (*)(int);
  auto publish = reinterpret_cast<publish_fn>(dlsym(plugin, "bus_plugin_publish"));
  if (publish == nullptr) {
    std::cerr << "plugin_host: " << dlerror() << "\n";
    return 1;
  }
  std::cout << "plugin_host: the plugin published up to seq " << publish(3) << "\n";
  return 0;
}
