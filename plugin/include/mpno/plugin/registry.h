#pragma once

// The generic registry of an ASPECT-style plugin system (design.md "Plugin systems"):
// each plugin registers its name, documentation, parameter declaration and factory at
// static initialisation. deal.II only: no LibTorch header here.

#include <deal.II/base/parameter_handler.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpno
{
  namespace plugin
  {
    /**
     * The plugins of one system, each an implementation of @p Interface, in the order of
     * their registration. A system keeps one instance behind a function-local static
     * accessor (e.g. Surrogate::registry()), so registration at static initialisation
     * does not depend on the order in which translation units are initialised.
     */
    template <typename Interface>
    class Registry
    {
    public:
      /** Declares a plugin's own entries (the caller has entered the system's subsection). */
      using Declare = std::function<void(dealii::ParameterHandler &)>;
      /** Creates a new, not yet parsed, instance of a plugin. */
      using Factory = std::function<std::unique_ptr<Interface>()>;

      /** Add the plugin @p name. @throws std::logic_error naming @p name if it is taken. */
      void
      register_plugin(const std::string &name, const std::string &documentation, Declare declare, Factory factory)
      {
        for (const Entry &e : entries_)
          if (e.name == name)
            throw std::logic_error("a plugin named '" + name + "' is already registered");
        entries_.push_back({name, documentation, std::move(declare), std::move(factory)});
      }

      /** The names, separated by '|', as dealii::Patterns::Selection wants them. */
      std::string
      names() const
      {
        std::string result;
        for (const Entry &e : entries_)
          result += (result.empty() ? "" : "|") + e.name;
        return result;
      }

      /** Declare every plugin's entries into @p prm (each plugin enters its own subsection). */
      void
      declare_parameters(dealii::ParameterHandler &prm) const
      {
        for (const Entry &e : entries_)
          if (e.declare)
            e.declare(prm);
      }

      /** "name: documentation" per plugin, separated by "; ", for the doc string of the
       *  entry that selects a plugin. */
      std::string
      documentation() const
      {
        std::string result;
        for (const Entry &e : entries_)
          result += (result.empty() ? "" : "; ") + e.name + ": " + e.documentation;
        return result;
      }

      /** A new instance of the plugin @p name.
       *  @throws std::invalid_argument naming @p name and the valid choices if unknown. */
      std::unique_ptr<Interface>
      create(const std::string &name) const
      {
        for (const Entry &e : entries_)
          if (e.name == name)
            return e.factory();
        throw std::invalid_argument("unknown plugin '" + name + "'; the valid choices are: " + names());
      }

    private:
      struct Entry
      {
        std::string name;
        std::string documentation;
        Declare     declare;
        Factory     factory;
      };
      std::vector<Entry> entries_;
    };

    /**
     * Registers a plugin in @p registry when constructed: a static instance in the
     * plugin's .cc (through a system's MPNO_REGISTER_... macro) registers it when the
     * library is initialised or loaded.
     */
    template <typename Interface>
    struct RegisterPlugin
    {
      /** Register @p Plugin, which has a static declare_parameters(ParameterHandler &). */
      template <typename Plugin>
      static RegisterPlugin
      make(Registry<Interface> &registry, const std::string &name, const std::string &documentation)
      {
        registry.register_plugin(name, documentation, &Plugin::declare_parameters, [] {
          return std::unique_ptr<Interface>(std::make_unique<Plugin>());
        });
        return {};
      }
    };
  } // namespace plugin
} // namespace mpno

/** Token pasting for the MPNO_REGISTER_... macros (unique names per line). */
#define MPNO_PLUGIN_CONCAT_(a, b) a##b
#define MPNO_PLUGIN_CONCAT(a, b) MPNO_PLUGIN_CONCAT_(a, b)
