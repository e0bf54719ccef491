# The Debian packages (issue 21): `make deb`, i.e. cpack -G DEB in a build
# directory. Two packages from the install() rules' components:
#   pve-gitops      the binary, its man pages, the shell completions, the
#                   JSON Schemas and the examples (component main)
#   pve-gitops-sim  proxmox-sim and vault-sim (component sim), which
#                   production hosts do not need
# CPack rather than debian/ + dpkg-buildpackage: the install() rules
# already say where every file goes, dpkg-shlibdeps runs through
# CPACK_DEBIAN_PACKAGE_SHLIBDEPS, and no second build description
# (debian/rules, debhelper) has to be kept in step with CMakeLists.txt.
set(PKG_MAINTAINER "pve-gitops developers <dev@pve-gitops.invalid>")
set(PKG_RELEASE 1)
set(PKG_VERSION "${PROJECT_VERSION}-${PKG_RELEASE}")
string(TIMESTAMP PKG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)

# The completions, beside the man pages build/man/ (POST_BUILD of pve-gitops)
add_custom_command(TARGET pve-gitops POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/completion
  COMMAND sh -c "$0 completion bash > $1/pve-gitops && $0 completion zsh > $1/_pve-gitops && $0 completion fish > $1/pve-gitops.fish"
          $<TARGET_FILE:pve-gitops> ${CMAKE_BINARY_DIR}/completion
  VERBATIM)
install(FILES ${CMAKE_BINARY_DIR}/completion/pve-gitops
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${CMAKE_BINARY_DIR}/completion/_pve-gitops
  DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${CMAKE_BINARY_DIR}/completion/pve-gitops.fish
  DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/schema/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/pve-gitops/schema)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/pve-gitops/examples
  PATTERN ".gitignore" EXCLUDE)
# man pages compressed as Debian's policy asks (gzip -9n: no name, no time)
install(CODE "
  file(GLOB_RECURSE pages \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/*.[15]\")
  foreach(p \${pages})
    execute_process(COMMAND gzip -9nf \${p})
  endforeach()")

# copyright and changelog.Debian.gz of each package
foreach(pkg pve-gitops pve-gitops-sim)
  set(PKG_NAME ${pkg})
  configure_file(${CMAKE_SOURCE_DIR}/packaging/changelog.in
    ${CMAKE_BINARY_DIR}/packaging/${pkg}/changelog.Debian @ONLY)
  if(pkg STREQUAL pve-gitops)
    set(comp main)
  else()
    set(comp sim)
  endif()
  install(FILES ${CMAKE_SOURCE_DIR}/packaging/copyright
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${comp})
  install(CODE "
    execute_process(COMMAND gzip -9nc \"${CMAKE_BINARY_DIR}/packaging/${pkg}/changelog.Debian\"
      OUTPUT_FILE \"${CMAKE_BINARY_DIR}/packaging/${pkg}/changelog.Debian.gz\")" COMPONENT ${comp})
  install(FILES ${CMAKE_BINARY_DIR}/packaging/${pkg}/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${comp})
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pve-gitops)
set(CPACK_PACKAGE_VENDOR "pve-gitops developers")
set(CPACK_PACKAGE_CONTACT "${PKG_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL main sim)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${PKG_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PKG_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_MAIN_PACKAGE_NAME pve-gitops)
set(CPACK_DEBIAN_MAIN_PACKAGE_DEPENDS "git")
set(CPACK_DEBIAN_MAIN_PACKAGE_RECOMMENDS "ansible-core, openssh-client")
set(CPACK_DEBIAN_MAIN_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_MAIN_DESCRIPTION "GitOps for Proxmox VE VMs from a git repository
pve-gitops turns a git repository of VM definitions (the Telmate Terraform
provider's keys, in YAML) into provisioned Proxmox VE VMs: validate, plan
and apply, the Ansible inventory, the playbook run on new hosts, and the
K3s kubeconfig published to Vault.")
set(CPACK_DEBIAN_SIM_PACKAGE_NAME pve-gitops-sim)
set(CPACK_DEBIAN_SIM_PACKAGE_SECTION devel)
set(CPACK_COMPONENT_SIM_DESCRIPTION "simulators of the Proxmox VE and Vault APIs for pve-gitops
proxmox-sim and vault-sim answer the parts of the Proxmox VE and Vault
HTTP APIs that pve-gitops uses, for tests and demonstrations without a
cluster. Production hosts do not need them.")
include(CPack)
