//! Phase one: scan the module tree from the root, then check the whole graph (exports,
//! visibility, dependencies, cycles) before anything is constructed.

use std::collections::{HashMap, HashSet};

use crate::module::{ExportDef, Identity, Import, ModuleDef, RouteDef};
use crate::provider::{ProviderKind, Scope};
use crate::{Error, Provider, Token};

pub(crate) type ModuleId = usize;
pub(crate) type ProviderId = usize;

#[derive(Debug)]
pub(crate) struct ModuleNode {
    pub(crate) name: String,
    pub(crate) identity: Identity,
    pub(crate) imports: Vec<ModuleId>,
    pub(crate) global: bool,
    /// The module's own providers, by token (a later registration replaces an earlier one).
    pub(crate) own: HashMap<Token, ProviderId>,
    /// The module's own providers, in registration order.
    pub(crate) providers: Vec<ProviderId>,
    pub(crate) exports: Vec<ExportDef>,
    /// What importers of this module see.
    pub(crate) exported: HashMap<Token, ProviderId>,
    /// What providers of this module can inject.
    pub(crate) visible: HashMap<Token, ProviderId>,
    pub(crate) routes: Vec<RouteDef>,
    /// The import chain from the root (the first path the scan took), ending with this module.
    pub(crate) chain: Vec<ModuleId>,
}

#[derive(Debug)]
pub(crate) struct ProviderNode {
    pub(crate) def: Provider,
    pub(crate) module: ModuleId,
    /// The provider each declared dependency resolves to (`None`: optional and missing).
    pub(crate) deps: Vec<Option<ProviderId>>,
    /// The scope after following aliases to their target.
    pub(crate) scope: Scope,
    /// 0 without dependencies, else one more than the deepest dependency.
    pub(crate) level: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub(crate) modules: Vec<ModuleNode>,
    pub(crate) providers: Vec<ProviderNode>,
    pub(crate) root: ModuleId,
    /// Modules in hook order: globals, then each module after its imports, the root last.
    pub(crate) order: Vec<ModuleId>,
    /// Singleton providers grouped by level, shallowest first: the construction plan.
    pub(crate) levels: Vec<Vec<ProviderId>>,
}

impl Graph {
    /// Scans the modules reachable from `root`, plus `core` (a global module every application
    /// has), deduplicating modules by identity.
    pub(crate) fn scan(root: &Import, core: Import) -> Self {
        let mut scanner = Scanner {
            graph: Graph::default(),
            seen: HashMap::new(),
        };
        scanner.visit(&core, &[]);
        let root = scanner.visit(root, &[]);
        let mut graph = scanner.graph;
        graph.root = root;

        graph
    }

    /// Replaces every registration of `provider`'s token.
    pub(crate) fn override_provider(&mut self, provider: Provider) -> Result<(), Error> {
        let token = provider.token;
        let mut found = false;
        for module in &self.modules {
            if let Some(&pid) = module.own.get(&token) {
                self.providers[pid].def = provider.clone();
                found = true;
            }
        }
        if found {
            Ok(())
        } else {
            Err(Error::UnknownOverride {
                type_name: token.name(),
            })
        }
    }

    /// Checks exports, resolves every dependency, rejects cycles and plans construction.
    pub(crate) fn check(&mut self) -> Result<(), Error> {
        self.compute_exports()?;
        self.compute_visibility();
        self.check_route_paths()?;
        self.resolve_dependencies()?;
        self.compute_scopes();
        self.plan()?;
        self.order = self.hook_order();

        Ok(())
    }

    pub(crate) fn chain(&self, module: ModuleId) -> String {
        self.modules[module]
            .chain
            .iter()
            .map(|&m| self.modules[m].name.as_str())
            .collect::<Vec<_>>()
            .join(" -> ")
    }

    /// Explicit imports followed by the global modules (other than the module itself), the
    /// order NestJS looks them up in.
    fn imports_with_globals(&self, module: ModuleId) -> Vec<ModuleId> {
        let mut imports = self.modules[module].imports.clone();
        for (id, other) in self.modules.iter().enumerate() {
            if other.global && id != module && !imports.contains(&id) {
                imports.push(id);
            }
        }

        imports
    }

    fn compute_exports(&mut self) -> Result<(), Error> {
        let mut done = vec![false; self.modules.len()];
        let mut visiting = HashSet::new();
        for module in 0..self.modules.len() {
            self.exports_of(module, &mut done, &mut visiting)?;
        }

        Ok(())
    }

    fn exports_of(
        &mut self,
        module: ModuleId,
        done: &mut [bool],
        visiting: &mut HashSet<ModuleId>,
    ) -> Result<(), Error> {
        // A module already being computed is met again through an import cycle: what it
        // exports so far is what the cycle can see.
        if done[module] || !visiting.insert(module) {
            return Ok(());
        }

        let imports = self.modules[module].imports.clone();
        for &import in &imports {
            self.exports_of(import, done, visiting)?;
        }

        let mut exported = HashMap::new();
        for export in self.modules[module].exports.clone() {
            match export {
                ExportDef::Token(token) => {
                    // As in NestJS, a module exports its own providers; what an import gives it
                    // passes on only by re-exporting that whole module.
                    if let Some(&pid) = self.modules[module].own.get(&token) {
                        exported.insert(token, pid);
                        continue;
                    }
                    let from = imports
                        .iter()
                        .find(|&&i| self.modules[i].exported.contains_key(&token));
                    return Err(match from {
                        Some(&import) => Error::ExportOfImport {
                            module: self.modules[module].name.clone(),
                            export: token.name(),
                            import: self.modules[import].name.clone(),
                            chain: self.chain(module),
                        },
                        None => Error::UnknownExport {
                            module: self.modules[module].name.clone(),
                            export: token.name(),
                            chain: self.chain(module),
                        },
                    });
                }
                ExportDef::Module { type_id, name } => {
                    let Some(&import) = imports
                        .iter()
                        .find(|&&i| self.modules[i].identity.type_id == type_id)
                    else {
                        return Err(Error::UnknownReexport {
                            module: self.modules[module].name.clone(),
                            reexport: crate::token::short_type_name(name),
                            chain: self.chain(module),
                        });
                    };
                    for (token, pid) in &self.modules[import].exported {
                        exported.entry(*token).or_insert(*pid);
                    }
                }
            }
        }
        self.modules[module].exported = exported;
        visiting.remove(&module);
        done[module] = true;

        Ok(())
    }

    fn compute_visibility(&mut self) {
        for module in 0..self.modules.len() {
            let mut visible = self.modules[module].own.clone();
            for import in self.imports_with_globals(module) {
                for (token, pid) in &self.modules[import].exported {
                    visible.entry(*token).or_insert(*pid);
                }
            }
            self.modules[module].visible = visible;
        }
    }

    /// A route whose path is read from a provider needs that provider where it is mounted.
    fn check_route_paths(&self) -> Result<(), Error> {
        for (id, module) in self.modules.iter().enumerate() {
            for route in &module.routes {
                let Some(token) = route.path.dependency() else {
                    continue;
                };
                if !module.visible.contains_key(&token) {
                    return Err(Error::RoutePathUnavailable {
                        module: module.name.clone(),
                        provider: token.name(),
                        chain: self.chain(id),
                    });
                }
            }
        }

        Ok(())
    }

    fn active_providers(&self) -> impl Iterator<Item = ProviderId> + '_ {
        self.modules
            .iter()
            .flat_map(|m| m.providers.iter().copied())
    }

    fn resolve_dependencies(&mut self) -> Result<(), Error> {
        let active: Vec<ProviderId> = self.active_providers().collect();
        for pid in active {
            let module = self.providers[pid].module;
            let visible = &self.modules[module].visible;
            let declared = &self.providers[pid].def.deps;
            let mut resolved = Vec::with_capacity(declared.len());
            for (index, dep) in declared.iter().enumerate() {
                let target = visible.get(&dep.token).copied();
                if target.is_none() && !dep.optional {
                    return Err(self.missing(pid, index));
                }
                resolved.push(target);
            }
            self.providers[pid].deps = resolved;
        }

        Ok(())
    }

    fn missing(&self, pid: ProviderId, index: usize) -> Error {
        let node = &self.providers[pid];
        let signature = node
            .def
            .deps
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if i == index {
                    "?".to_owned()
                } else {
                    d.token.name()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");

        Error::MissingDependency {
            provider: node.def.token.name(),
            signature: format!("needs {signature}"),
            index: index + 1,
            missing: node.def.deps[index].token.name(),
            module: self.modules[node.module].name.clone(),
            chain: self.chain(node.module),
        }
    }

    fn compute_scopes(&mut self) {
        for pid in 0..self.providers.len() {
            let mut scope = self.providers[pid].def.scope;
            let mut current = pid;
            // Follow aliases to the provider they stand for; the hop limit stops on a cycle of
            // aliases, which the cycle check reports next.
            for _ in 0..self.providers.len() {
                let node = &self.providers[current];
                let ProviderKind::Alias(_) = node.def.kind else {
                    scope = node.def.scope;
                    break;
                };
                let Some(Some(target)) = node.deps.first() else {
                    break;
                };
                current = *target;
            }
            self.providers[pid].scope = scope;
        }
    }

    /// Orders construction by dependency depth, rejecting cycles with their whole path.
    fn plan(&mut self) -> Result<(), Error> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }

        let mut marks = vec![Mark::New; self.providers.len()];
        let mut levels = vec![0usize; self.providers.len()];
        let active: Vec<ProviderId> = self.active_providers().collect();
        for start in active {
            if marks[start] != Mark::New {
                continue;
            }
            // Iterative depth-first search, so that a deep chain cannot overflow the stack.
            let mut stack: Vec<(ProviderId, usize)> = vec![(start, 0)];
            marks[start] = Mark::Open;
            while let Some(&mut (pid, ref mut next)) = stack.last_mut() {
                let deps = &self.providers[pid].deps;
                if let Some(dep) = deps.get(*next).copied() {
                    *next += 1;
                    let Some(dep) = dep else { continue };
                    match marks[dep] {
                        Mark::New => {
                            marks[dep] = Mark::Open;
                            stack.push((dep, 0));
                        }
                        Mark::Open => {
                            let from = stack.iter().position(|(p, _)| *p == dep).unwrap_or(0);
                            let mut path: Vec<ProviderId> =
                                stack[from..].iter().map(|(p, _)| *p).collect();
                            path.push(dep);
                            return Err(self.cycle(&path));
                        }
                        Mark::Done => {}
                    }
                } else {
                    let level = deps
                        .iter()
                        .flatten()
                        .map(|d| levels[*d] + 1)
                        .max()
                        .unwrap_or(0);
                    levels[pid] = level;
                    marks[pid] = Mark::Done;
                    stack.pop();
                }
            }
        }

        let mut plan: Vec<Vec<ProviderId>> = Vec::new();
        for pid in self.active_providers().collect::<Vec<_>>() {
            self.providers[pid].level = levels[pid];
            if self.providers[pid].scope == Scope::Singleton {
                let level = levels[pid];
                if plan.len() <= level {
                    plan.resize_with(level + 1, Vec::new);
                }
                plan[level].push(pid);
            }
        }
        self.levels = plan;

        Ok(())
    }

    fn cycle(&self, path: &[ProviderId]) -> Error {
        let path = path
            .iter()
            .map(|&p| {
                let node = &self.providers[p];
                format!(
                    "{} (in {})",
                    node.def.token.name(),
                    self.modules[node.module].name
                )
            })
            .collect::<Vec<_>>()
            .join(" -> ");

        Error::CircularDependency { path }
    }

    fn hook_order(&self) -> Vec<ModuleId> {
        fn visit(graph: &Graph, module: ModuleId, seen: &mut [bool], out: &mut Vec<ModuleId>) {
            if seen[module] {
                return;
            }
            seen[module] = true;
            for &import in &graph.modules[module].imports {
                visit(graph, import, seen, out);
            }
            out.push(module);
        }

        let mut seen = vec![false; self.modules.len()];
        let mut out = Vec::with_capacity(self.modules.len());
        for (id, module) in self.modules.iter().enumerate() {
            if module.global {
                visit(self, id, &mut seen, &mut out);
            }
        }
        visit(self, self.root, &mut seen, &mut out);

        out
    }
}

struct Scanner {
    graph: Graph,
    seen: HashMap<Identity, ModuleId>,
}

impl Scanner {
    fn visit(&mut self, import: &Import, parent_chain: &[ModuleId]) -> ModuleId {
        let identity = import.identity();
        if let Some(&id) = self.seen.get(&identity) {
            return id;
        }

        let ModuleDef {
            name,
            imports,
            providers,
            exports,
            routes,
            global,
        } = import.definition();
        let id = self.graph.modules.len();
        let mut chain = parent_chain.to_vec();
        chain.push(id);
        self.seen.insert(identity.clone(), id);
        self.graph.modules.push(ModuleNode {
            name,
            identity,
            imports: Vec::new(),
            global,
            own: HashMap::new(),
            providers: Vec::new(),
            exports,
            exported: HashMap::new(),
            visible: HashMap::new(),
            routes,
            chain: chain.clone(),
        });

        for provider in providers {
            self.register(id, provider);
        }

        let imported: Vec<ModuleId> = imports.iter().map(|i| self.visit(i, &chain)).collect();
        self.graph.modules[id].imports = imported;

        id
    }

    fn register(&mut self, module: ModuleId, mut provider: Provider) {
        let bindings = std::mem::take(&mut provider.bindings);
        let token = provider.token;
        let pid = self.graph.providers.len();
        self.graph.providers.push(ProviderNode {
            scope: provider.scope,
            def: provider,
            module,
            deps: Vec::new(),
            level: 0,
        });

        let node = &mut self.graph.modules[module];
        if let Some(replaced) = node.own.insert(token, pid) {
            node.providers.retain(|p| *p != replaced);
        }
        node.providers.push(pid);

        for binding in bindings {
            self.register(module, binding);
        }
    }
}
